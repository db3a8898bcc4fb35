// The scanner app: device login, choice of list, scans (keyboard scanner,
// typed code, camera, search), offline mode, the menu; ui.js draws the
// screens, sync.js talks to the server. The check-in API is documented in
// the OpenAPI document of the server (/<db>/ticket/api/v1/openapi.json,
// paths /checkin/...).
import {Camera} from './camera.js';
import {Store} from './store.js';
import {
    api, clientId, downloadBundle, flush, overlayLocal, remember, revoked,
    saveSettings, sync} from './sync.js';
import {
    $, chooseLanguage, currentList, focusCode, notice, renderLog,
    renderStatus, show, showResult, state, stopCamera, t,
    translatePage} from './ui.js';
import {Verifier, supportsEd25519} from './verifier.js';

const SYNC_EVERY = 60000;
const RETRY_EVERY = 15000;
const MAX_CODE = 400;

// --- login and lists --------------------------------------------------

function login(event) {
    event.preventDefault();
    return connect($('key').value.trim());
}

// Connect with a device key: check it, keep it, download the bundle
async function connect(key) {
    const error = $('login-error');
    if (!key) {
        error.textContent = t('error_key');
        return;
    }
    error.textContent = t('connecting');
    let reply;
    try {
        reply = await api('GET', '/device', null, {key});
    } catch (failure) {
        error.textContent = t('error_network');
        return;
    }
    if (reply.status === 401) {
        error.textContent = t('error_key');
        return;
    }
    if (reply.status !== 200) {
        error.textContent = t('error_server', {status: reply.status});
        return;
    }
    error.textContent = '';
    $('key').value = '';
    notice('');
    state.key = key;
    state.device = reply.data;
    if (!state.device.lists.some(l => l.id === state.list)) {
        state.list = null;
    }
    await saveSettings();
    await downloadBundle();
    flush();
    chooseListOrScan();
}

function chooseListOrScan() {
    const lists = state.device.lists;
    if (lists.length === 1) {
        state.list = lists[0].id;
        saveSettings();
    }
    if (currentList()) {
        renderStatus();
        show('scan');
    } else {
        showLists();
    }
}

function showLists() {
    const choices = $('list-choices');
    choices.replaceChildren();
    if (!state.device.lists.length) {
        const item = document.createElement('li');
        item.textContent = t('no_lists');
        choices.append(item);
    }
    for (const list of state.device.lists) {
        const item = document.createElement('li');
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'choice';
        const extras = [];
        if (list.allow_reentry) {
            extras.push(t('reentry'));
        }
        if (list.count_only) {
            extras.push(t('count_only'));
        }
        button.textContent = list.name
            + (extras.length ? ` (${extras.join(', ')})` : '');
        button.addEventListener('click', () => {
            state.list = list.id;
            saveSettings();
            renderStatus();
            show('scan');
        });
        item.append(button);
        choices.append(item);
    }
    show('lists');
}

// Update the device's name and lists from the server
async function refreshDevice() {
    if (!navigator.onLine) {
        return;
    }
    let reply;
    try {
        reply = await api('GET', '/device');
    } catch (error) {
        return;
    }
    if (reply.status === 401) {
        revoked();
    } else if (reply.status === 200) {
        state.device = reply.data;
        await saveSettings();
        if (!currentList() && !$('scan').hidden) {
            notice(t('list_closed'));
            showLists();
        }
        renderStatus();
    }
}

// --- scanning ---------------------------------------------------------

function direction() {
    const list = currentList();
    if (!list || !list.allow_reentry) {
        return '';
    }
    return document.querySelector('input[name="direction"]:checked').value;
}

function enqueue(target) {
    state.queue = state.queue.then(() => scan(target)).catch(error => {
        console.warn('scan failed', error);
    });
    return state.queue;
}

async function scan(target) {
    if (!currentList()) {
        return;
    }
    if (target.code !== undefined) {
        target.code = target.code.trim();
        if (!target.code) {
            return;
        }
        if (target.code.length > MAX_CODE) {
            showResult({result: 'invalid_code'});
            return;
        }
    }
    const way = direction();
    const at = new Date();
    if (navigator.onLine && state.reachable) {
        const body = {list: state.list, ...target};
        if (way) {
            body.direction = way;
        }
        let reply = null;
        try {
            reply = await api('POST', '/scan', body);
        } catch (error) {
            reply = null;
        }
        if (reply && reply.status === 200) {
            const answer = reply.data;
            if (answer.ok && answer.ticket && answer.ticket.session
                    && state.verifier) {
                remember(answer.list, answer.ticket.id,
                    answer.ticket.session.id, answer.direction);
            }
            showResult(answer);
            if (state.pending) {
                flush();
            }
            return;
        }
        if (reply && reply.status === 401) {
            revoked();
            return;
        }
        if (reply && reply.status === 403) {
            notice(t('list_closed'));
            refreshDevice();
            return;
        }
        if (reply && reply.status === 400) {
            showResult({result: 'invalid_code'});
            return;
        }
    }
    await scanOffline(target, way, at);
}


async function scanOffline(target, way, at) {
    const verifier = state.verifier;
    let found = {result: 'unknown', ticket: null};
    if (verifier && target.code !== undefined) {
        found = await verifier.find(target.code);
    } else if (verifier && verifier.byId.has(target.ticket)) {
        found = {result: null, ticket: verifier.byId.get(target.ticket)};
    }
    const outcome = found.result ? {result: found.result}
        : verifier.check(found.ticket, state.list, at, way);
    const body = {
        id: clientId(), list: state.list, ...target,
        scanned_at: at.toISOString(), result: outcome.result,
    };
    if (outcome.result === 'ok') {
        body.session = outcome.session;
        body.direction = outcome.direction;
        verifier.record(found.ticket, state.list, outcome);
        const key = verifier.entryKey(state.list, found.ticket.id,
            outcome.session);
        if (verifier.entries.has(key)) {
            state.local = state.local.filter(([k]) => k !== key);
            state.local.push([key, verifier.entries.get(key)]);
        }
    } else if (way) {
        body.direction = way;
    }
    await state.store.addPending({id: body.id, scanned_at: body.scanned_at,
        body}, state.local);
    state.pending += 1;
    renderStatus();
    const ticket = found.ticket;
    const session = outcome.session && verifier.sessions.get(outcome.session);
    const list = currentList();
    const fields = {};
    for (const name of list.show_fields) {
        if (name === 'number' && ticket && ticket.number) {
            fields.number = ticket.number;
        } else if (name === 'session' && session) {
            fields.session = {id: outcome.session,
                start: session.start.toISOString()};
        }
    }
    showResult({
        result: outcome.result, direction: outcome.direction || 'in',
        ticket: ticket ? {id: ticket.id, number: ticket.number,
            holder_name: ticket.holder_name, tariff: ticket.tariff} : null,
        fields, offline: true, id: body.id,
    });
}

// --- camera -----------------------------------------------------------

async function toggleCamera() {
    if (state.camera) {
        stopCamera();
        return;
    }
    const button = $('camera-button');
    const status = $('camera-status');
    $('camera').hidden = false;
    status.textContent = t('camera_starting');
    state.camera = new Camera($('video'), code => enqueue({code}));
    button.setAttribute('aria-pressed', 'true');
    button.textContent = t('camera_stop');
    try {
        const decoder = await state.camera.start();
        status.textContent = t('camera_hint');
        document.body.dataset.decoder = decoder;
    } catch (error) {
        status.textContent = t(error.message === 'unsupported'
            ? 'camera_unsupported' : 'camera_denied');
        state.camera.stop();
        state.camera = null;
        button.setAttribute('aria-pressed', 'false');
        button.textContent = t('camera');
    }
}


// --- search -----------------------------------------------------------

async function search(event) {
    event.preventDefault();
    const query = $('query').value.trim();
    const status = $('search-status');
    const results = $('search-results');
    results.replaceChildren();
    if (query.length < 2) {
        status.textContent = t('search_short');
        return;
    }
    let tickets = null;
    let offline = false;
    if (navigator.onLine && state.reachable) {
        try {
            const reply = await api('GET', `/search?list=${state.list}`
                + `&q=${encodeURIComponent(query)}`);
            if (reply.status === 200) {
                tickets = reply.data.tickets;
            } else if (reply.status === 401) {
                revoked();
                return;
            }
        } catch (error) {
            tickets = null;
        }
    }
    if (tickets === null && state.verifier) {
        offline = true;
        tickets = state.verifier.search(query, state.list).map(ticket => ({
            id: ticket.id, number: ticket.number,
            holder_name: ticket.holder_name, tariff: ticket.tariff,
            state: 'valid', order: null,
            entries: state.verifier.entriesOf(ticket, state.list)}));
    }
    tickets = tickets || [];
    status.textContent = tickets.length
        ? (offline ? t('search_offline') : '') : t('search_none');
    for (const ticket of tickets) {
        const item = document.createElement('li');
        const text = document.createElement('p');
        const inside = ticket.entries.some(e => e.state === 'inside');
        text.textContent = [ticket.holder_name || '—', ticket.number,
            ticket.tariff, ticket.order].filter(Boolean).join(' · ')
            + ` (${t(inside || ticket.state === 'used' ? 'state_used'
                : `state_${ticket.state}`)})`;
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = t('admit');
        button.setAttribute('aria-label',
            `${t('admit')} ${ticket.holder_name || ticket.number}`);
        button.addEventListener('click', () => {
            enqueue({ticket: ticket.id}).then(() => {
                results.replaceChildren();
                status.textContent = '';
                $('query').value = '';
                focusCode();
            });
        });
        item.append(text, button);
        results.append(item);
    }
}

// --- menu -------------------------------------------------------------

async function openMenu() {
    renderStatus();
    $('signature-info').textContent = t(await supportsEd25519()
        ? 'signatures_on' : 'signatures_off');
    show('menu');
}

async function forget() {
    if (state.pending) {
        notice(t('forget_pending', {n: state.pending}));
        return;
    }
    if (!confirm(t('forget_confirm'))) {
        return;
    }
    await state.store.clear();
    Object.assign(state, {key: null, device: null, list: null,
        verifier: null, local: [], log: [], lastResult: null});
    renderLog();
    renderStatus();
    show('login');
}

// --- start ------------------------------------------------------------

function bind() {
    $('login-form').addEventListener('submit', login);
    $('code-form').addEventListener('submit', event => {
        event.preventDefault();
        const code = $('code').value;
        $('code').value = '';
        enqueue({code});
    });
    $('search-form').addEventListener('submit', search);
    $('camera-button').addEventListener('click', toggleCamera);
    $('search-button').addEventListener('click', () => {
        const open = $('search').hidden;
        $('search').hidden = !open;
        $('search-button').setAttribute('aria-expanded', String(open));
        if (open) {
            $('query').focus();
        }
    });
    $('menu-button').addEventListener('click', () => ($('menu').hidden
        ? openMenu() : show(state.list ? 'scan' : 'lists')));
    $('close-menu-button').addEventListener('click',
        () => show(currentList() ? 'scan' : 'lists'));
    $('refresh-button').addEventListener('click', async () => {
        await flush();
        await downloadBundle();
        await refreshDevice();
    });
    $('upload-button').addEventListener('click', flush);
    $('change-list-button').addEventListener('click', showLists);
    $('forget-button').addEventListener('click', forget);
    $('language').addEventListener('change', () => {
        state.lang = $('language').value;
        const url = new URL(location.href);
        url.searchParams.delete('lang');
        history.replaceState(null, '', url);
        saveSettings();
        translatePage();
    });
    // A scanner in keyboard mode types anywhere: send it to the code field.
    document.addEventListener('keydown', event => {
        const target = event.target;
        const typing = target.tagName === 'TEXTAREA'
            || target.tagName === 'SELECT' || (target.tagName === 'INPUT'
                && !['radio', 'checkbox', 'button'].includes(target.type));
        if ($('scan').hidden || event.ctrlKey || event.metaKey
                || event.altKey || event.key.length !== 1
                || event.key === ' ' || typing) {
            return;
        }
        $('code').focus();
    });
    $('direction').addEventListener('change', focusCode);
    window.addEventListener('online', () => {
        state.reachable = true;
        renderStatus();
        flush().then(sync);
    });
    window.addEventListener('offline', () => renderStatus());
    setInterval(() => {
        if (!state.reachable || state.pending) {
            state.reachable = navigator.onLine;
            flush();
        }
    }, RETRY_EVERY);
    setInterval(sync, SYNC_EVERY);
}

async function start() {
    state.store = await Store.open(document.body.dataset.database);
    const settings = await state.store.get('settings') || {};
    state.lang = chooseLanguage(settings.lang);
    Object.assign(state, {key: settings.key || null,
        device: settings.device || null, list: settings.list || null});
    const bundle = await state.store.get('bundle');
    state.local = await state.store.get('local') || [];
    if (bundle) {
        state.verifier = new Verifier(bundle);
        overlayLocal();
    }
    state.log = await state.store.get('log') || [];
    state.pending = (await state.store.pending()).length;
    bind();
    translatePage();
    document.body.dataset.started = 'true';
    if ('serviceWorker' in navigator) {
        navigator.serviceWorker.register('sw.js', {scope: './'}).catch(
            error => console.warn('no service worker', error));
    }
    // The back office's scanner link carries the key in the fragment.
    const given = new URLSearchParams(location.hash.slice(1)).get('key');
    if (given) {
        history.replaceState(null, '', location.pathname + location.search);
        if (given !== state.key) {
            show('login');
            await connect(given);
            return;
        }
    }
    if (!state.key || !state.device) {
        show('login');
        return;
    }
    if (currentList()) {
        show('scan');
    } else {
        showLists();
    }
    await refreshDevice();
    if (state.key) {
        if (!state.verifier) {
            await downloadBundle();
        }
        await flush();
        await sync();
    }
}

start();
