/* Guichet web shop: the pages work without this script; it adds the live
   countdown of held places and sizes the page inside the widget's iframe. */
(function () {
  'use strict';

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function countdown(box) {
    var expires = Date.parse(box.getAttribute('data-expires'));
    var text = box.querySelector('.countdown-text');
    var announce = box.querySelector('[data-announce]');
    var template = box.getAttribute('data-template');
    var lastMinute = null;
    if (isNaN(expires) || !text) { return; }
    function tick() {
      var left = Math.ceil((expires - Date.now()) / 1000);
      if (left <= 0) {
        box.classList.add('expired');
        text.textContent = box.getAttribute('data-expired');
        if (announce) { announce.textContent = text.textContent; }
        clearInterval(timer);
        return;
      }
      text.textContent = template.replace('%(time)s',
        Math.floor(left / 60) + ':' + pad(left % 60));
      var minute = Math.ceil(left / 60);
      if (announce && minute !== lastMinute && (minute === 5 || minute === 1)) {
        announce.textContent = text.textContent;
      }
      lastMinute = minute;
    }
    var timer = setInterval(tick, 1000);
    tick();
  }

  function focusErrors() {
    var summary = document.getElementById('error-summary');
    if (summary) { summary.focus(); }
  }

  function sizeInFrame() {
    if (window.parent === window || !document.body.classList.contains('embed')) { return; }
    function post() {
      window.parent.postMessage({guichetHeight: document.documentElement.scrollHeight}, '*');
    }
    post();
    window.addEventListener('load', post);
    document.addEventListener('toggle', post, true);
    if (window.ResizeObserver) { new ResizeObserver(post).observe(document.body); }
  }

  /* The seat map: a click, Space or Enter on a free seat ticks its box in
     the list of seats (what the form sends) and shows it picked. */
  function seatPicker(svg) {
    var form = document.getElementById('seats-pick');
    if (!form) { return; }
    var count = form.querySelector('.picked-count');
    function update() {
      var n = form.querySelectorAll('input[name="seats"]:checked').length;
      if (count) { count.textContent = count.getAttribute('data-template').replace('%(count)s', n); }
    }
    function toggle(seat) {
      var box = document.getElementById('seat-' + seat.getAttribute('data-seat'));
      if (!box) { return; }
      box.checked = !box.checked;
      seat.setAttribute('aria-checked', box.checked ? 'true' : 'false');
      seat.classList.toggle('picked', box.checked);
      update();
    }
    svg.addEventListener('click', function (event) {
      var seat = event.target.closest('circle.free[data-seat]');
      if (seat) { toggle(seat); }
    });
    svg.addEventListener('keydown', function (event) {
      var seat = event.target.closest('circle.free[data-seat]');
      if (seat && (event.key === ' ' || event.key === 'Enter')) {
        event.preventDefault();
        toggle(seat);
      }
    });
    form.addEventListener('change', function (event) {
      var box = event.target;
      if (box.name !== 'seats') { return; }
      var seat = svg.querySelector('circle[data-seat="' + box.value + '"]');
      if (seat) {
        seat.setAttribute('aria-checked', box.checked ? 'true' : 'false');
        seat.classList.toggle('picked', box.checked);
      }
      update();
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('.countdown'), countdown);
    Array.prototype.forEach.call(document.querySelectorAll('svg.seat-map.pickable'), seatPicker);
    focusErrors();
    sizeInFrame();
  });
}());
