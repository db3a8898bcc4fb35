// The scanner and the server: the check-in API with the device's key, the
// offline bundle and its sync, the upload of the scans made offline.
import {Verifier} from './verifier.js';
import {
    $, notice, renderLog, renderStatus, show, state, t} from './ui.js';

const API = document.body.dataset.api;
const REQUEST_TIMEOUT = 5000;
const BUNDLE_TIMEOUT = 120000;
const UPLOAD_BATCH = 500;

// --- the server -------------------------------------------------------

export async function api(method, path, body = null, options = {}) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(),
        options.timeout || REQUEST_TIMEOUT);
    const headers = {Authorization: `Bearer ${options.key || state.key}`};
    if (body !== null) {
        headers['Content-Type'] = 'application/json';
    }
    try {
        const response = await fetch(API + path, {
            method, headers, cache: 'no-store', signal: controller.signal,
            body: body === null ? undefined : JSON.stringify(body),
        });
        let data = null;
        try {
            data = await response.json();
        } catch (error) {
            data = null;
        }
        reachable(response.status < 500);
        return {status: response.status, data};
    } catch (error) {
        reachable(false);
        throw error;
    } finally {
        clearTimeout(timer);
    }
}

export function reachable(value) {
    if (state.reachable !== value) {
        state.reachable = value;
        renderStatus();
    }
}

export function revoked() {
    notice(t('revoked'));
    state.key = null;
    saveSettings();
    show('login');
}

export async function saveSettings() {
    await state.store.put('settings', {
        key: state.key, device: state.device, list: state.list,
        lang: state.lang});
}

// --- offline data -----------------------------------------------------

export function overlayLocal() {
    for (const [key, value] of state.local) {
        state.verifier.entries.set(key, value);
    }
}

export async function downloadBundle() {
    $('bundle-info').textContent = t('bundle_loading');
    let reply;
    try {
        reply = await api('GET', '/bundle', null, {timeout: BUNDLE_TIMEOUT});
    } catch (error) {
        renderStatus();
        return false;
    }
    if (reply.status === 401) {
        revoked();
        return false;
    }
    if (reply.status !== 200) {
        renderStatus();
        return false;
    }
    state.verifier = new Verifier(reply.data);
    overlayLocal();
    await state.store.put('bundle', state.verifier.toJSON());
    renderStatus();
    return true;
}

// Fetch the changes since the last sync token
export async function sync() {
    if (!state.verifier || !state.key || state.syncing || !navigator.onLine) {
        return;
    }
    state.syncing = true;
    try {
        const reply = await api('GET',
            `/sync?since=${encodeURIComponent(state.verifier.token)}`, null,
            {timeout: BUNDLE_TIMEOUT});
        if (reply.status === 401) {
            revoked();
        } else if (reply.status === 200) {
            const changes = reply.data;
            state.verifier.apply(changes);
            if (!state.pending) {
                state.local = [];
            }
            overlayLocal();
            if (changes.tickets.length || changes.revoked.length
                    || changes.entries.length || changes.lists.length) {
                await state.store.put('bundle', state.verifier.toJSON());
            }
            await state.store.put('local', state.local);
            renderStatus();
        }
    } catch (error) {
        // offline: next time
    } finally {
        state.syncing = false;
    }
}

export function clientId() {
    const random = Array.from(crypto.getRandomValues(new Uint8Array(6)),
        b => b.toString(16).padStart(2, '0')).join('');
    return `${state.device.id}.${Date.now().toString(36)}.${random}`;
}

// Upload the scans made offline, oldest first
export async function flush() {
    if (state.flushing || !state.key || !navigator.onLine) {
        return;
    }
    state.flushing = true;
    let uploaded = 0;
    let conflicts = 0;
    try {
        for (;;) {
            const scans = (await state.store.pending()).sort(
                (a, b) => a.scanned_at.localeCompare(b.scanned_at));
            if (!scans.length) {
                break;
            }
            const batch = scans.slice(0, UPLOAD_BATCH);
            const reply = await api('POST', '/offline-scans',
                {scans: batch.map(s => s.body)}, {timeout: BUNDLE_TIMEOUT});
            if (reply.status === 401) {
                revoked();
                break;
            }
            if ([400, 403].includes(reply.status) && batch.length > 1) {
                // One bad scan must not hold the others back: send them
                // one by one, the refused one is dropped.
                for (const scan of batch) {
                    const one = await api('POST', '/offline-scans',
                        {scans: [scan.body]}, {timeout: BUNDLE_TIMEOUT});
                    if ([200, 400, 403].includes(one.status)) {
                        conflicts += countConflicts(batch, one.data);
                        uploaded += 1;
                        await state.store.removePending([scan.id]);
                    }
                }
                continue;
            }
            if (![200, 400, 403].includes(reply.status)) {
                break;
            }
            conflicts += countConflicts(batch, reply.data);
            uploaded += batch.length;
            await state.store.removePending(batch.map(s => s.id));
        }
    } catch (error) {
        // offline again: the scans stay for the next time
    } finally {
        state.pending = (await state.store.pending()).length;
        state.flushing = false;
        renderStatus();
    }
    if (uploaded) {
        const texts = [t('uploaded', {n: uploaded})];
        if (conflicts) {
            texts.push(t('conflicts', {n: conflicts}));
        }
        notice(texts.join(' '));
        renderLog();
        await state.store.put('log', state.log);
        sync();
    }
}

// Mark in the log the offline admissions that lost to an earlier scan
function countConflicts(batch, data) {
    if (!data || !data.results) {
        return 0;
    }
    let count = 0;
    for (const answer of data.results) {
        const scan = batch.find(s => s.body.id === answer.id);
        if (!answer.conflict || !scan || scan.body.result !== 'ok'
                || answer.result === 'ok') {
            continue;
        }
        count += 1;
        for (const line of state.log) {
            if (line.id === answer.id) {
                line.conflict = true;
                line.result = answer.result;
            }
        }
    }
    return count;
}

// Note an entry the device changed, for its offline checks
export function remember(list, ticket, session, way) {
    const key = state.verifier.entryKey(list, ticket, session);
    const value = way === 'out' ? 'outside' : 'inside';
    const rules = state.verifier.lists.get(list);
    if (rules && rules.count_only) {
        return;
    }
    state.verifier.entries.set(key, value);
    state.local = state.local.filter(([k]) => k !== key);
    state.local.push([key, value]);
    state.store.put('local', state.local);
}
