// Main-thread entry: reads the address parameters, starts the worker client and mounts the page.
// This thread never imports TensorFlow.js; the worker owns it (DESIGN.md section 2).
import { mount } from 'svelte';
import App from './ui/App.svelte';
import { Playground } from './ui/state/playground.svelte';
import { parsePageParams } from './ui/url';
import { WorkerClient } from './ui/worker-client';
import './ui/global.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks <div id="app">');

// The model ships beside the page, so the build works from any sub-path.
const modelUrl = new URL('models/base/', document.baseURI).href;
const playground = new Playground(new WorkerClient(), parsePageParams(location.search), modelUrl);
mount(App, { target, props: { playground } });
void playground.start();
