// Main-thread entry: registers the service worker (offline cache and cross-origin isolation),
// reads the run config from the address, creates the page state with a factory for worker
// clients (a restart after a crash makes a new one) and mounts the page.
// This thread never imports TensorFlow.js; the worker owns it (DESIGN.md section 2).
import { mount } from 'svelte';
import { addressInForce, parseRunConfig, readAddress, runConfigSearch } from './lib/config/url';
import { viewSearch } from './lib/config/view';
import App from './ui/App.svelte';
import { Lecture } from './ui/state/lecture.svelte';
import { OfflineState } from './ui/state/offline.svelte';
import { Playground } from './ui/state/playground.svelte';
import { WorkerClient } from './ui/worker-client';
import './ui/global.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks <div id="app">');

// The query, then settings after # (read the same way); repeated and unknown keys are reported.
const address = readAddress(location.search, location.hash);
const run = parseRunConfig(address.search);
const setup = { config: run.config, problems: [...address.problems, ...run.problems] };
const offline = new OfflineState();

// The model ships beside the page, so the build works from any sub-path.
const modelUrl = new URL('models/base/', document.baseURI).href;
const playground = new Playground(() => new WorkerClient(), setup, modelUrl);
const lecture = new Lecture(playground, address.search);
// The address now says what runs (clamped values, no unknown or repeated keys, no settings after
// #), so a shared link never repeats a notice; the worker's method settings follow when it is ready.
history.replaceState(history.state, '', `${location.pathname}${addressInForce(runConfigSearch(setup.config, viewSearch(lecture.view)), location.search, location.hash)}`);
// Settings typed after # on an open page do not reload it: say when they apply.
addEventListener('hashchange', () => {
  const edited = readAddress('', location.hash);
  if (edited.search !== '' || edited.problems.length > 0) playground.warn(`The settings after # in the address (${location.hash}) are read when the page loads: reload the page to apply them.`);
});
// The worker starts first: its script, TensorFlow.js and the model load while this thread mounts
// the page (started after the mount, the worker's first request waited for it, issue 11).
// A lecture link (?autopilot=1) runs the whole loop hands-free once the first pair is on screen.
// The service worker registers once the first pair is on screen (or the start failed): its
// precache of the build (about 4 MB with the model and the .wasm files) would otherwise compete with
// the worker's own loading on a first visit (issue 11's cold start).
void playground
  .start()
  .then(() => lecture.startHandsFree())
  .finally(() => offline.register(setup.config.threads === 1));
mount(App, { target, props: { playground, lecture, offline } });
