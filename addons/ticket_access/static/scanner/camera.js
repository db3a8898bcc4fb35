// Camera scanning: the browser's BarcodeDetector where it reads QR codes,
// else jsQR (npm, served as static/jsQR.js) on frames drawn to a canvas.

const INTERVAL = 150;
const SAME_CODE_PAUSE = 2500;
const MAX_WIDTH = 800;

let jsqrLoading = null;

function loadJsQR() {
    if (globalThis.jsQR) {
        return Promise.resolve(globalThis.jsQR);
    }
    if (!jsqrLoading) {
        jsqrLoading = new Promise((resolve, reject) => {
            const script = document.createElement('script');
            script.src = 'static/jsQR.js';
            script.onload = () => globalThis.jsQR
                ? resolve(globalThis.jsQR) : reject(new Error('no jsQR'));
            script.onerror = () => {
                jsqrLoading = null;
                reject(new Error('jsQR not loaded'));
            };
            document.head.append(script);
        });
    }
    return jsqrLoading;
}

async function barcodeDetector() {
    if (!('BarcodeDetector' in globalThis)) {
        return null;
    }
    try {
        const formats = await BarcodeDetector.getSupportedFormats();
        if (formats.includes('qr_code')) {
            return new BarcodeDetector({formats: ['qr_code']});
        }
    } catch (error) {
        // fall back to jsQR
    }
    return null;
}

export class Camera {
    // onCode(text) is called once per code seen (again after a pause)
    constructor(video, onCode) {
        this.video = video;
        this.onCode = onCode;
        this.stream = null;
        this.timer = null;
        this.canvas = document.createElement('canvas');
        this.last = {text: null, at: 0};
        this.decoder = null;
    }

    get running() {
        return Boolean(this.stream);
    }

    // Start the camera; resolves to the decoder used ('native', 'jsqr'),
    // rejects with 'unsupported' or the camera's error
    async start() {
        const detector = await barcodeDetector();
        let decode;
        if (detector) {
            this.decoder = 'native';
            decode = async () => {
                const codes = await detector.detect(this.video);
                return codes.length ? codes[0].rawValue : null;
            };
        } else {
            let jsQR;
            try {
                jsQR = await loadJsQR();
            } catch (error) {
                throw new Error('unsupported');
            }
            this.decoder = 'jsqr';
            const context = this.canvas.getContext(
                '2d', {willReadFrequently: true});
            decode = async () => {
                const scale = Math.min(1, MAX_WIDTH / this.video.videoWidth);
                const width = Math.round(this.video.videoWidth * scale);
                const height = Math.round(this.video.videoHeight * scale);
                if (!width || !height) {
                    return null;
                }
                this.canvas.width = width;
                this.canvas.height = height;
                context.drawImage(this.video, 0, 0, width, height);
                const image = context.getImageData(0, 0, width, height);
                const code = jsQR(image.data, width, height,
                    {inversionAttempts: 'dontInvert'});
                return code ? code.data : null;
            };
        }
        if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
            throw new Error('unsupported');
        }
        this.stream = await navigator.mediaDevices.getUserMedia({
            audio: false,
            video: {facingMode: {ideal: 'environment'},
                width: {ideal: 1280}, height: {ideal: 720}},
        });
        this.video.srcObject = this.stream;
        await this.video.play();
        const tick = async () => {
            if (!this.stream) {
                return;
            }
            try {
                if (this.video.readyState >= 2) {
                    const text = await decode();
                    if (text) {
                        this.seen(text);
                    }
                }
            } catch (error) {
                // a frame that cannot be read: try the next one
            }
            if (this.stream) {
                this.timer = setTimeout(tick, INTERVAL);
            }
        };
        tick();
        return this.decoder;
    }

    seen(text) {
        const now = Date.now();
        if (text === this.last.text && now - this.last.at < SAME_CODE_PAUSE) {
            this.last.at = now;
            return;
        }
        this.last = {text, at: now};
        this.onCode(text);
    }

    stop() {
        clearTimeout(this.timer);
        if (this.stream) {
            for (const track of this.stream.getTracks()) {
                track.stop();
            }
        }
        this.stream = null;
        this.video.srcObject = null;
    }
}
