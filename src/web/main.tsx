/** The dashboard's entry: mounts the app (bundled by scripts/build-web.mjs into dist/web). */
import { render } from 'preact';
import { App } from './app';
import 'uplot/dist/uPlot.min.css';
import './styles.css';

render(<App />, document.getElementById('app')!);
