// The service worker: app assets are precached at install; the Pyodide runtime is cached
// the first time a Run fetches it. Hashed files never change, so they are served from the
// cache first; the page itself and the API always go to the network (the page falls back
// to the cached shell when offline). A new build has a new version and replaces the cache.
/* global SW_VERSION, SW_PRECACHE, SW_PYODIDE */
const CACHE = `eduverse-${SW_VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SW_PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key.startsWith("eduverse-") && key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/static/build/")) {
    event.respondWith(
      caches.open(CACHE).then(async (cache) => {
        const hit = await cache.match(request);
        if (hit) return hit;
        const response = await fetch(request);
        if (response.ok && (url.pathname.startsWith(SW_PYODIDE) || SW_PRECACHE.includes(url.pathname))) {
          await cache.put(request, response.clone());
        }
        return response;
      }),
    );
  } else if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).catch(() => caches.open(CACHE).then((cache) => cache.match("/"))),
    );
  }
});
