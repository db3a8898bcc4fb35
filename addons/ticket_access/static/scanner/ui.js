// The screens of the scanner app: its texts in English and French, the
// status bar, the result screen (colour, icon, words, sound) and the log.

export const MESSAGES = JSON.parse(
    document.getElementById('messages').textContent);
const LOG_SIZE = 30;
const STALE_AFTER = 6000;
// The colour of each result: green, orange (a real ticket, not admitted
// here or now) or red (not a valid ticket)
export const KINDS = {
    ok: 'good', out: 'good', already_used: 'warn', wrong_list: 'warn',
    wrong_session: 'warn', not_yet_valid: 'warn', unknown: 'bad',
    cancelled: 'bad', invalid_signature: 'bad', invalid_code: 'bad',
};
const TONES = {
    good: [[880, 0.12]],
    warn: [[660, 0.12], [660, 0.12]],
    bad: [[220, 0.5]],
};

export const $ = id => document.getElementById(id);
export const state = {
    store: null, lang: 'en', key: null, device: null, list: null,
    verifier: null, local: [], log: [], pending: 0,
    reachable: navigator.onLine, queue: Promise.resolve(),
    flushing: false, syncing: false, camera: null, audio: null,
    staleTimer: null, lastResult: null,
};

// --- texts ------------------------------------------------------------

export function chooseLanguage(stored) {
    const asked = new URLSearchParams(location.search).get('lang');
    for (const lang of [asked, stored]) {
        if (lang && lang in MESSAGES) {
            return lang;
        }
    }
    for (const lang of navigator.languages || [navigator.language]) {
        const short = (lang || '').slice(0, 2).toLowerCase();
        if (short in MESSAGES) {
            return short;
        }
    }
    return 'en';
}

export function t(key, values = {}) {
    if (values.n === 1 && `${key}_one` in MESSAGES.en) {
        key = `${key}_one`;
    }
    const text = MESSAGES[state.lang][key] ?? MESSAGES.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

export function translatePage() {
    document.documentElement.lang = state.lang;
    document.title = t('app_name');
    for (const element of document.querySelectorAll('[data-t]')) {
        element.textContent = t(element.dataset.t);
    }
    $('language').value = state.lang;
    renderStatus();
    renderLog();
    if (state.lastResult) {
        renderResult(state.lastResult);
    }
}

export function formatTime(value, withDate = false) {
    const date = value instanceof Date ? value : new Date(value);
    return new Intl.DateTimeFormat(state.lang, withDate
        ? {dateStyle: 'medium', timeStyle: 'short'}
        : {timeStyle: 'medium'}).format(date);
}

// --- screens ----------------------------------------------------------

export function show(screen) {
    for (const id of ['login', 'lists', 'scan', 'menu']) {
        $(id).hidden = id !== screen;
    }
    $('menu-button').hidden = !state.key || screen === 'login';
    $('menu-button').setAttribute('aria-expanded', String(screen === 'menu'));
    document.body.dataset.screen = screen;
    if (screen !== 'scan' && state.camera) {
        stopCamera();
    }
    if (screen === 'scan') {
        focusCode();
    } else if (screen === 'login') {
        $('key').focus();
    }
}

export function notice(text) {
    $('notice').textContent = text;
    $('notice').hidden = !text;
}

export function focusCode() {
    // A phone does not want its keyboard up over the camera or the result.
    if (!state.camera && !matchMedia('(pointer: coarse)').matches) {
        $('code').focus({preventScroll: true});
    }
}

export function currentList() {
    return state.device && state.device.lists.find(l => l.id === state.list);
}

export function renderStatus() {
    const online = navigator.onLine && state.reachable;
    const net = $('net');
    net.textContent = t(online ? 'online' : 'offline');
    net.className = `badge ${online ? 'badge-online' : 'badge-offline'}`;
    document.body.dataset.online = String(online);
    $('pending').hidden = !state.pending;
    $('pending').textContent = t('pending', {n: state.pending});
    document.body.dataset.pending = String(state.pending);
    const list = currentList();
    $('device-name').textContent = state.device ? state.device.name : '';
    $('list-name').textContent = list ? ` · ${list.name}` : '';
    $('menu-device').textContent = state.device ? state.device.name : '';
    $('menu-list').textContent = list ? list.name : '';
    $('direction').hidden = !(list && list.allow_reentry);
    const verifier = state.verifier;
    $('bundle-info').textContent = verifier ? t('bundle_info', {
        tickets: verifier.size,
        time: formatTime(verifier.generatedAt)}) : t('bundle_none');
    document.body.dataset.bundle = verifier ? 'loaded' : 'none';
}

// --- the result screen ------------------------------------------------

function resultKey(answer) {
    return answer.result === 'ok' && answer.direction === 'out'
        ? 'out' : answer.result;
}

export function showResult(answer) {
    state.lastResult = answer;
    renderResult(answer);
    const key = resultKey(answer);
    beep(KINDS[key]);
    const ticket = answer.ticket || {};
    state.log.unshift({
        at: new Date().toISOString(), key, result: answer.result,
        holder: ticket.holder_name || '', number: ticket.number || '',
        offline: Boolean(answer.offline), id: answer.id || null,
        conflict: false,
    });
    state.log.length = Math.min(state.log.length, LOG_SIZE);
    state.store.put('log', state.log);
    renderLog();
}

export function renderResult(answer) {
    const key = resultKey(answer);
    const kind = KINDS[key];
    const element = $('result');
    element.className = `result result-${kind}`;
    element.dataset.result = answer.result;
    element.dataset.direction = answer.direction || '';
    element.dataset.offline = String(Boolean(answer.offline));
    $('result-title').removeAttribute('data-t');
    $('result-message').removeAttribute('data-t');
    $('result-title').textContent = t(`result_${key}`);
    $('result-message').textContent = t(`message_${key}`);
    const ticket = answer.ticket || {};
    $('result-holder').textContent = ticket.holder_name || '';
    $('result-tariff').textContent = ticket.tariff
        ? t('tariff_value', {tariff: ticket.tariff}) : '';
    const fields = $('result-fields');
    fields.replaceChildren();
    for (const [name, value] of Object.entries(answer.fields || {})) {
        if (value === null || value === undefined || value === '') {
            continue;
        }
        const term = document.createElement('dt');
        term.textContent = t(`field_${name}`);
        const definition = document.createElement('dd');
        definition.textContent = name === 'session'
            ? formatTime(value.start, true) : String(value);
        fields.append(term, definition);
    }
    $('result-offline').hidden = !answer.offline;
    clearTimeout(state.staleTimer);
    state.staleTimer = setTimeout(
        () => element.classList.add('result-stale'), STALE_AFTER);
}

export function renderLog() {
    const log = $('log');
    log.replaceChildren();
    if (!state.log.length) {
        const item = document.createElement('li');
        item.className = 'log-empty';
        item.textContent = t('log_empty');
        log.append(item);
    }
    for (const line of state.log) {
        const item = document.createElement('li');
        item.className = `log-${KINDS[line.conflict ? 'already_used'
            : line.key]}`;
        const parts = [formatTime(line.at), t(`result_${line.key}`)];
        for (const text of [line.holder, line.number]) {
            if (text) {
                parts.push(text);
            }
        }
        item.textContent = parts.join(' · ');
        for (const [flag, label] of [[line.offline, 'tag_offline'],
                [line.conflict, 'tag_conflict']]) {
            if (flag) {
                const tag = document.createElement('span');
                tag.className = `tag tag-${label.slice(4)}`;
                tag.textContent = t(label);
                item.append(' ', tag);
            }
        }
        log.append(item);
    }
}

export function beep(kind) {
    if (navigator.vibrate) {
        navigator.vibrate(kind === 'good' ? 80 : [120, 60, 120]);
    }
    try {
        state.audio = state.audio || new AudioContext();
        const audio = state.audio;
        if (audio.state === 'suspended') {
            audio.resume();
        }
        let start = audio.currentTime;
        for (const [frequency, duration] of TONES[kind]) {
            const oscillator = audio.createOscillator();
            const gain = audio.createGain();
            oscillator.type = kind === 'bad' ? 'square' : 'sine';
            oscillator.frequency.value = frequency;
            gain.gain.setValueAtTime(0.25, start);
            gain.gain.exponentialRampToValueAtTime(0.001, start + duration);
            oscillator.connect(gain).connect(audio.destination);
            oscillator.start(start);
            oscillator.stop(start + duration);
            start += duration + 0.08;
        }
    } catch (error) {
        // no sound on this device: the screen says it all
    }
}

// --- camera -----------------------------------------------------------

export function stopCamera() {
    if (state.camera) {
        state.camera.stop();
        state.camera = null;
    }
    $('camera').hidden = true;
    $('camera-button').setAttribute('aria-pressed', 'false');
    $('camera-button').textContent = t('camera');
}
