// PathLab's service worker: keeps this version of the app in the browser's
// cache so that it opens with no network (a classroom), and replaces an old
// version cleanly. The release build's post-build hook writes the version
// and the list of files below; the page registers it only in release builds.
const VERSION = '__VERSION__';
const FILES = __FILES__;
const CACHE = `pathlab-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

// The new version takes over at once, and the caches of older ones go.
self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('pathlab-') && k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // The page itself comes from the network when there is one (so a new
    // version is found), from the cache when there is not.
    if (request.mode === 'navigate') {
      try {
        return await fetch(request);
      } catch {
        return (await cache.match('./', { ignoreSearch: true })) ?? Response.error();
      }
    }
    // Files have their content's hash in their names: the cache is right.
    return (await cache.match(request, { ignoreSearch: true })) ?? fetch(request);
  })());
});
