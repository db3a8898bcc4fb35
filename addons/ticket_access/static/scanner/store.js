// What the scanner keeps on the device, in IndexedDB: its settings (key,
// list, language), the offline bundle, the scans waiting for upload and
// the last scans shown. One database per Guichet database.

function promised(request) {
    return new Promise((resolve, reject) => {
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
    });
}

export class Store {
    static async open(name) {
        const request = indexedDB.open(`guichet-scanner-${name}`, 1);
        request.onupgradeneeded = () => {
            const db = request.result;
            db.createObjectStore('settings');
            db.createObjectStore('pending', {keyPath: 'id'});
        };
        return new Store(await promised(request));
    }

    constructor(db) {
        this.db = db;
    }

    async run(names, mode, action) {
        const transaction = this.db.transaction(names, mode);
        const done = new Promise((resolve, reject) => {
            transaction.oncomplete = resolve;
            transaction.onabort = () => reject(transaction.error);
            transaction.onerror = () => reject(transaction.error);
        });
        const result = await action(transaction);
        await done;
        return result;
    }

    get(key) {
        return this.run(['settings'], 'readonly',
            t => promised(t.objectStore('settings').get(key)));
    }

    put(key, value) {
        return this.run(['settings'], 'readwrite',
            t => promised(t.objectStore('settings').put(value, key)));
    }

    remove(key) {
        return this.run(['settings'], 'readwrite',
            t => promised(t.objectStore('settings').delete(key)));
    }

    // A scan made offline, with the entries the device changed since its
    // bundle was saved
    addPending(scan, local) {
        return this.run(['settings', 'pending'], 'readwrite', t => {
            t.objectStore('pending').put(scan);
            t.objectStore('settings').put(local, 'local');
        });
    }

    pending() {
        return this.run(['pending'], 'readonly',
            t => promised(t.objectStore('pending').getAll()));
    }

    removePending(ids) {
        return this.run(['pending'], 'readwrite', t => {
            const store = t.objectStore('pending');
            for (const id of ids) {
                store.delete(id);
            }
        });
    }

    clear() {
        return this.run(['settings', 'pending'], 'readwrite', t => {
            t.objectStore('settings').clear();
            t.objectStore('pending').clear();
        });
    }
}
