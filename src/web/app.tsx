/** The shell: routes (in the URL's hash, so any static server works), navigation, login, live status. */
import { useEffect, useLayoutEffect, useState } from 'preact/hooks';
import { api, type Me, onLoginRequired } from './api';
import { useLiveState } from './hooks';
import { lazyScreen } from './lazy-screen';
import { live } from './live';
import { DevicesScreen } from './screens/devices';

// Only the home screen is in the first load; the others come when first shown.
const DeviceScreen = lazyScreen(() => import('./screens/device').then((m) => m.DeviceScreen));
const TopicScreen = lazyScreen(() => import('./screens/topic').then((m) => m.TopicScreen));
const TopicsScreen = lazyScreen(() => import('./screens/topics').then((m) => m.TopicsScreen));
const PublishScreen = lazyScreen(() => import('./screens/publish').then((m) => m.PublishScreen));
const ClientsScreen = lazyScreen(() => import('./screens/clients').then((m) => m.ClientsScreen));
const LoginScreen = lazyScreen(() => import('./screens/login').then((m) => m.LoginScreen));

interface Route {
  name: 'devices' | 'device' | 'topics' | 'topic' | 'publish' | 'clients';
  arg: string;
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#\/?/, '').split('?');
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  const arg = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1));
  const query = new URLSearchParams(search);
  switch (head) {
    case 'device':
    case 'topic':
    case 'topics':
    case 'publish':
    case 'clients':
      return { name: head, arg, query };
    default:
      return { name: 'devices', arg: '', query };
  }
}

function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return parseRoute(hash);
}

function LiveStatus() {
  const state = useLiveState();
  const [, redraw] = useState(0);
  const recent = state === 'open' && Date.now() - live.reconnectedAt < 5000;
  useEffect(() => {
    if (!recent) return;
    const t = setTimeout(() => redraw((n) => n + 1), 5000);
    return () => clearTimeout(t);
  }, [recent]);
  const shown = state === 'lost' ? 'lost' : recent ? 'reconnected' : state;
  return (
    <div class={`live-status ${shown}`} data-live={shown} data-reconnects={live.reconnects} role="status">
      {shown === 'lost' && 'Lost the link to the hub (broker restarting?). Reconnecting…'}
      {shown === 'reconnected' && 'Reconnected to the hub.'}
    </div>
  );
}

const TABS: [Route['name'], string, string][] = [
  ['devices', '#/', 'Devices'],
  ['topics', '#/topics', 'Topics'],
  ['publish', '#/publish', 'Publish'],
  ['clients', '#/clients', 'Clients'],
];

export function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | undefined>(undefined);
  const [needLogin, setNeedLogin] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);
  const loadMe = () =>
    api<Me>('/api/me').then(
      (m) => {
        setMe(m);
        setNeedLogin(false);
        setProblem(undefined);
      },
      (e: Error & { status?: number }) => e.status !== 401 && setProblem(e.message),
    );
  // Before the first paint, not after it: on a slow phone the first frame comes late.
  useLayoutEffect(() => {
    live.start();
    const off = onLoginRequired(() => setNeedLogin(true));
    loadMe();
    return () => {
      off();
      live.stop();
    };
  }, []);
  const logout = async () => {
    await api('/api/logout', {}).catch(() => {});
    setMe(undefined);
    loadMe();
    live.restart();
  };
  const tabs = TABS.filter(([name]) => name !== 'clients' || me?.admin);
  const current = route.name === 'device' ? 'devices' : route.name === 'topic' ? 'topics' : route.name;
  return (
    <>
      <header class="top">
        <a href="#/" class="brand">
          <img src="icon.svg" alt="" width={24} height={24} /> Mothership
        </a>
        <nav class="tabs">
          {tabs.map(([name, href, label]) => (
            <a
              key={name}
              href={href}
              class={current === name ? 'on' : ''}
              aria-current={current === name ? 'page' : undefined}
            >
              {label}
            </a>
          ))}
        </nav>
        {me?.loggedIn && (
          <span class="user">
            {me.username}{' '}
            <button type="button" class="small" onClick={logout}>
              Log out
            </button>
          </span>
        )}
      </header>
      <LiveStatus />
      <main>
        {problem && !me && <p class="error">{problem}</p>}
        {needLogin ? (
          <LoginScreen
            onDone={() => {
              loadMe();
              live.restart();
            }}
          />
        ) : (
          // Not waiting for /api/me: the screen's own requests go out at once (a 401 brings the login).
          <Screen route={route} />
        )}
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case 'device':
      return <DeviceScreen key={route.arg} id={route.arg} />;
    case 'topic':
      return <TopicScreen key={route.arg} topic={route.arg} />;
    case 'topics':
      return <TopicsScreen />;
    case 'publish':
      return <PublishScreen topic={route.query.get('topic') ?? ''} />;
    case 'clients':
      return <ClientsScreen />;
    default:
      return <DevicesScreen />;
  }
}
