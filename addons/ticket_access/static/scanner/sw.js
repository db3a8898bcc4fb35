// The scanner's service worker: keeps the app shell (the page, its scripts
// and style, jsQR) so that the app starts without network. The network
// comes first, the cache when it fails or is too slow; the check-in API is
// never cached here (the app keeps its data in IndexedDB). The server
// writes the version and the list of assets in.
const VERSION = '__VERSION__';
const CACHE = `guichet-scanner-${VERSION}`;
const ASSETS = __ASSETS__;
const SHELL = ['./', 'manifest.webmanifest'].concat(
    ASSETS.map(name => `static/${name}`));
const TIMEOUT = 4000;

self.addEventListener('install', event => {
    event.waitUntil((async () => {
        const cache = await caches.open(CACHE);
        await Promise.all(SHELL.map(async url => {
            try {
                const response = await fetch(url, {cache: 'no-store'});
                if (response.ok) {
                    await cache.put(url, response);
                }
            } catch (error) {
                // cached on its first use instead
            }
        }));
        await self.skipWaiting();
    })());
});

self.addEventListener('activate', event => {
    event.waitUntil((async () => {
        for (const name of await caches.keys()) {
            if (name.startsWith('guichet-scanner-') && name !== CACHE) {
                await caches.delete(name);
            }
        }
        await self.clients.claim();
    })());
});

async function networkFirst(request) {
    const cache = await caches.open(CACHE);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT);
    try {
        // A navigation request cannot be given options: fetch its URL.
        const response = await fetch(
            request.mode === 'navigate' ? request.url : request,
            {signal: controller.signal});
        if (response.ok) {
            await cache.put(request, response.clone());
        }
        return response;
    } catch (error) {
        const cached = await cache.match(request, {ignoreSearch: true});
        if (cached) {
            return cached;
        }
        throw error;
    } finally {
        clearTimeout(timer);
    }
}

self.addEventListener('fetch', event => {
    const request = event.request;
    if (request.method !== 'GET'
            || !request.url.startsWith(self.registration.scope)) {
        return;
    }
    event.respondWith(networkFirst(request));
});
