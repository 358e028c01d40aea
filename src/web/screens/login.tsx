/** Login with a user of the broker's password file, when the hub's rules ask for one. */
import { useState } from 'preact/hooks';
import { api } from '../api';

export function LoginScreen({ onDone }: { onDone(): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await api('/api/login', { username, password });
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <div class="screen" data-screen="login">
      <form class="card form login" onSubmit={submit}>
        <h2>Log in</h2>
        <p class="muted">This hub asks for a user of its password file (the same users as MQTT).</p>
        <label>
          Username
          <input
            name="username"
            autocomplete="username"
            required
            value={username}
            onInput={(e) => setUsername((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" class="primary">
          Log in
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </div>
  );
}
