// Offline checks of ticket codes against the device's bundle: the same
// rules as the server's scan service, as offline.OfflineVerifier writes
// them in Python (signing.py documents the signed codes).
//
// A signed code ("G1" + base64url(payload + Ed25519 signature)) is verified
// with the event's public key when the browser's WebCrypto knows Ed25519;
// otherwise it must be in the bundle (the hash of its secret, with the same
// ticket id). A plain secret is looked up by its hash.

const PREFIX = 'G1';
const VERSION = 1;
const DOMAIN = new TextEncoder().encode('guichet-ticket-v1\0');
const HEADER_SIZE = 21;
const SIGNATURE_SIZE = 64;
const MAX_CODE = 400;

export class InvalidCode extends Error {}

export function b64decode(text) {
    if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)
            || text.length % 4 === 1) {
        throw new InvalidCode('not base64url');
    }
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/')
        + '='.repeat((4 - text.length % 4) % 4));
    return Uint8Array.from(binary, c => c.charCodeAt(0));
}

export function b64encode(bytes) {
    let binary = '';
    for (const byte of bytes) {
        binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_')
        .replace(/=+$/, '');
}

// SHA-256, by WebCrypto where the page is a secure context, else in JS.
const K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);

export function sha256js(data) {
    const length = data.length;
    const padded = new Uint8Array(((length + 9 + 63) >> 6) << 6);
    padded.set(data);
    padded[length] = 0x80;
    const view = new DataView(padded.buffer);
    view.setUint32(padded.length - 8, Math.floor(length / 0x20000000));
    view.setUint32(padded.length - 4, (length << 3) >>> 0);
    const h = new Uint32Array([
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    const w = new Uint32Array(64);
    const rotr = (x, n) => (x >>> n) | (x << (32 - n));
    for (let offset = 0; offset < padded.length; offset += 64) {
        for (let i = 0; i < 16; i++) {
            w[i] = view.getUint32(offset + 4 * i);
        }
        for (let i = 16; i < 64; i++) {
            const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18)
                ^ (w[i - 15] >>> 3);
            const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19)
                ^ (w[i - 2] >>> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        let [a, b, c, d, e, f, g, k] = h;
        for (let i = 0; i < 64; i++) {
            const t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25))
                + ((e & f) ^ (~e & g)) + K[i] + w[i];
            const t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22))
                + ((a & b) ^ (a & c) ^ (b & c));
            k = g; g = f; f = e; e = (d + t1) >>> 0;
            d = c; c = b; b = a; a = (t1 + t2) >>> 0;
        }
        h[0] += a; h[1] += b; h[2] += c; h[3] += d;
        h[4] += e; h[5] += f; h[6] += g; h[7] += k;
    }
    const out = new Uint8Array(32);
    const outView = new DataView(out.buffer);
    h.forEach((value, i) => outView.setUint32(4 * i, value));
    return out;
}

async function sha256(data) {
    if (globalThis.crypto && crypto.subtle) {
        return new Uint8Array(await crypto.subtle.digest('SHA-256', data));
    }
    return sha256js(data);
}

export async function secretHash(secret) {
    const digest = await sha256(new TextEncoder().encode(secret));
    return b64encode(digest.slice(0, 16));
}

export function isSigned(code) {
    return typeof code === 'string' && code.startsWith(PREFIX);
}

export function decode(code) {
    if (!isSigned(code) || code.length > MAX_CODE) {
        throw new InvalidCode('not a signed code');
    }
    const data = b64decode(code.slice(PREFIX.length));
    if (data.length < HEADER_SIZE + 1 + SIGNATURE_SIZE) {
        throw new InvalidCode('too short');
    }
    const payload = data.slice(0, data.length - SIGNATURE_SIZE);
    const signature = data.slice(data.length - SIGNATURE_SIZE);
    const view = new DataView(payload.buffer);
    const size = payload[HEADER_SIZE];
    const secret = payload.slice(HEADER_SIZE + 1);
    if (view.getUint8(0) !== VERSION || secret.length !== size || !size) {
        throw new InvalidCode('bad payload');
    }
    let text;
    try {
        text = new TextDecoder('utf-8', {fatal: true}).decode(secret);
    } catch (error) {
        throw new InvalidCode('bad secret');
    }
    return {
        event: view.getUint32(1), ticket: view.getUint32(5),
        session: view.getUint32(9), validFrom: view.getUint32(13),
        validUntil: view.getUint32(17), secret: text, payload, signature,
    };
}

let ed25519Support = null;

// Whether WebCrypto verifies Ed25519 signatures here (tried once).
export async function supportsEd25519() {
    if (ed25519Support === null) {
        try {
            await crypto.subtle.importKey('raw', new Uint8Array(32),
                {name: 'Ed25519'}, false, ['verify']);
            ed25519Support = true;
        } catch (error) {
            ed25519Support = false;
        }
    }
    return ed25519Support;
}

// Check signatures (true) or only the bundle's hashes (false) whatever the
// browser supports; null detects again. The tests check both ways.
export function useSignatures(value) {
    ed25519Support = value;
}

function concat(a, b) {
    const out = new Uint8Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
}

function normalize(text) {
    return (text || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '')
        .toLowerCase();
}

export class Verifier {
    // bundle: the JSON of GET /checkin/bundle (or what toJSON stored)
    constructor(bundle) {
        this.keys = {};
        this.cryptoKeys = new Map();
        this.lists = new Map();
        this.sessions = new Map();
        this.tickets = new Map();
        this.byId = new Map();
        this.revoked = new Set();
        this.entries = new Map();
        this.token = null;
        this.generatedAt = null;
        this.apply(bundle);
    }

    // Apply a bundle or the changes of a sync
    apply(changes) {
        Object.assign(this.keys, changes.keys);
        for (const rules of changes.lists) {
            this.lists.set(rules.id, rules);
        }
        for (const session of changes.sessions) {
            this.sessions.set(session.id, {
                event: session.event, cancelled: session.cancelled,
                start: new Date(session.start),
                end: session.end ? new Date(session.end) : null,
            });
        }
        for (const ticket of changes.tickets) {
            const old = this.byId.get(ticket.id);
            if (old && old.h !== ticket.h) {
                this.tickets.delete(old.h);
            }
            this.tickets.set(ticket.h, ticket);
            this.byId.set(ticket.id, ticket);
            this.revoked.delete(ticket.h);
        }
        for (const ticket of changes.revoked) {
            this.revoked.add(ticket.h);
            this.tickets.delete(ticket.h);
            this.byId.delete(ticket.id);
        }
        for (const entry of changes.entries) {
            this.entries.set(
                this.entryKey(entry.list, entry.ticket, entry.session),
                entry.state);
        }
        this.token = changes.sync_token;
        this.generatedAt = changes.generated_at;
    }

    // What IndexedDB keeps: the shape of a bundle
    toJSON() {
        const entries = [];
        for (const [key, state] of this.entries) {
            const [list, ticket, session] = key.split(':').map(Number);
            entries.push({list, ticket, session, state});
        }
        const sessions = [];
        for (const [id, s] of this.sessions) {
            sessions.push({id, event: s.event, cancelled: s.cancelled,
                start: s.start.toISOString(),
                end: s.end ? s.end.toISOString() : null});
        }
        return {
            sync_token: this.token, generated_at: this.generatedAt,
            keys: this.keys, lists: [...this.lists.values()], sessions,
            tickets: [...this.tickets.values()],
            revoked: [...this.revoked].map(h => ({h})), entries,
        };
    }

    entryKey(list, ticket, session) {
        return `${list}:${ticket}:${session}`;
    }

    get size() {
        return this.tickets.size;
    }

    async publicKey(event) {
        if (!this.cryptoKeys.has(event)) {
            const raw = this.keys[String(event)];
            this.cryptoKeys.set(event, raw ? crypto.subtle.importKey(
                'raw', b64decode(raw), {name: 'Ed25519'}, false,
                ['verify']) : Promise.resolve(null));
        }
        return this.cryptoKeys.get(event);
    }

    // {result, ticket} of a scanned code: result null when found
    async find(code) {
        let signed = null;
        let secret = code;
        if (isSigned(code)) {
            try {
                signed = decode(code);
            } catch (error) {
                return {result: 'invalid_signature', ticket: null};
            }
            secret = signed.secret;
            if (await supportsEd25519()) {
                let valid = false;
                try {
                    const key = await this.publicKey(signed.event);
                    valid = Boolean(key) && await crypto.subtle.verify(
                        {name: 'Ed25519'}, key, signed.signature,
                        concat(DOMAIN, signed.payload));
                } catch (error) {
                    valid = false;
                }
                if (!valid) {
                    return {result: 'invalid_signature', ticket: null};
                }
            } else {
                signed.unverified = true;
            }
        }
        const digest = await secretHash(secret);
        if (this.revoked.has(digest)) {
            return {result: 'cancelled', ticket: null};
        }
        const ticket = this.tickets.get(digest);
        if (ticket && signed && ticket.id !== signed.ticket) {
            return {result: 'invalid_signature', ticket: null};
        }
        if (!ticket) {
            // A signed ticket issued after the bundle is still good.
            if (signed && !signed.unverified && signed.session) {
                return {result: null, ticket: {
                    id: signed.ticket, number: null, holder_name: null,
                    tariff: null, admissions: [{
                        session: signed.session, tariffs: [],
                        categories: [], cancelled: false}]}};
            }
            return {result: 'unknown', ticket: null};
        }
        return {result: null, ticket};
    }

    // Check a ticket on a list at a time (a Date); direction '', 'in' or
    // 'out' ('' toggles on a re-entry list). Returns {result, session,
    // direction}.
    check(ticket, listId, at, direction = '') {
        const rules = this.lists.get(listId);
        const mine = ticket.admissions.filter(a =>
            this.sessions.has(a.session)
            && this.sessions.get(a.session).event === rules.event);
        if (!mine.length || !this.inScope(rules, mine)) {
            return {result: 'wrong_list'};
        }
        const candidates = mine.filter(a => !rules.sessions.length
            || rules.sessions.includes(a.session));
        if (!candidates.length) {
            return {result: 'wrong_session'};
        }
        const live = candidates.filter(a => !a.cancelled);
        if (!live.length) {
            return {result: 'cancelled'};
        }
        let early = false;
        const opened = [];
        for (const admission of live) {
            const session = this.sessions.get(admission.session);
            const end = session.end || session.start;
            if (rules.open_before !== null
                    && at < session.start - rules.open_before * 1000) {
                early = true;
            } else if (rules.close_after === null
                    || at <= end.getTime() + rules.close_after * 1000) {
                opened.push(admission.session);
            }
        }
        if (!opened.length) {
            return {result: early ? 'not_yet_valid' : 'wrong_session'};
        }
        if (rules.count_only) {
            return {result: 'ok', session: opened[0],
                direction: direction || 'in'};
        }
        for (const session of opened) {
            const state = this.entries.get(
                this.entryKey(listId, ticket.id, session)) || 'void';
            const way = direction || (rules.allow_reentry && state === 'inside'
                ? 'out' : 'in');
            if (way === 'out' ? state === 'inside'
                    : state === 'void'
                    || (rules.allow_reentry && state === 'outside')) {
                return {result: 'ok', session, direction: way};
            }
        }
        return {result: 'already_used', session: opened[0],
            direction: direction || 'in'};
    }

    // Record locally what an admitting check changed
    record(ticket, listId, outcome) {
        const rules = this.lists.get(listId);
        if (outcome.result !== 'ok' || !rules || rules.count_only) {
            return;
        }
        this.entries.set(this.entryKey(listId, ticket.id, outcome.session),
            outcome.direction === 'out' ? 'outside' : 'inside');
    }

    inScope(rules, admissions) {
        if (!rules.tariffs.length && !rules.categories.length) {
            return true;
        }
        return admissions.some(a =>
            a.tariffs.some(t => rules.tariffs.includes(t))
            || a.categories.some(c => rules.categories.includes(c)));
    }

    // Tickets of a list's event by holder name or number (offline search)
    search(query, listId, limit = 20) {
        const rules = this.lists.get(listId);
        const wanted = normalize(query.trim());
        const found = [];
        for (const ticket of this.tickets.values()) {
            const mine = ticket.admissions.some(a =>
                this.sessions.has(a.session)
                && this.sessions.get(a.session).event === rules.event);
            if (mine && (ticket.number === query.trim()
                    || normalize(ticket.holder_name).includes(wanted))) {
                found.push(ticket);
            }
        }
        found.sort((a, b) => (a.holder_name || '').localeCompare(
            b.holder_name || '') || a.id - b.id);
        return found.slice(0, limit);
    }

    // The state of a ticket's entries on a list
    entriesOf(ticket, listId) {
        return ticket.admissions.map(a => ({session: a.session,
            state: this.entries.get(this.entryKey(listId, ticket.id,
                a.session)) || 'void'}));
    }
}
