/// <reference lib="webworker" />
// The page's one service worker (issue 12, "Works offline"), built by vite-plugin-pwa's
// injectManifest into sw.js beside index.html. It does two jobs, since a scope has one worker:
// 1. Offline: Workbox precaches the whole build (the manifest below lists every file with its
//    revision) and serves it from the cache, so after one visit the page opens and trains with
//    the network off. Every navigation inside the scope gets the precached index.html, whatever
//    its query (?backend=, ?seed=, ...).
// 2. Cross-origin isolation: it adds COOP/COEP to every response it serves, as coi-serviceworker
//    did before (github.com/gzuidhof/coi-serviceworker), so WASM threads run on a host that
//    cannot send headers (GitHub Pages), and the Content-Security-Policy, so that the policy
//    also covers the workers (a <meta> policy reaches only the document).
// Updates: a new build has a new manifest, so the browser installs a new worker beside the old
// one; it waits until the page asks for it (the "Reload to update" button posts SKIP_WAITING),
// then Workbox deletes the entries the new manifest no longer lists. Requests to other origins
// are never touched (the page makes none).
import { clientsClaim, type WorkboxPlugin } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, addPlugins, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';
import { contentSecurityPolicy, ISOLATION_HEADERS } from './policy';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: (string | { url: string; revision: string | null })[] };

/** A copy of `response` with the isolation and CSP headers; opaque responses cannot be copied. */
function withPageHeaders(response: Response): Response {
  if (response.type === 'opaque' || response.type === 'opaqueredirect') return response;
  const headers = new Headers(response.headers);
  for (const [name, value] of Object.entries(ISOLATION_HEADERS)) headers.set(name, value);
  headers.set('Content-Security-Policy', contentSecurityPolicy());
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

const PAGE_HEADERS: WorkboxPlugin = {
  handlerWillRespond: async ({ response }) => withPageHeaders(response),
};

// A new worker waits (the page may be mid-training on the old files) until the page says so.
self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
// The first worker controls the page that registered it at once, so that page can reload into
// an isolated one; later workers take over only after SKIP_WAITING.
clientsClaim();

addPlugins([PAGE_HEADERS]);
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));
// Same-origin files outside the manifest (none in the build today) still get the headers.
registerRoute(({ url }) => url.origin === self.location.origin, new NetworkOnly({ plugins: [PAGE_HEADERS] }));
