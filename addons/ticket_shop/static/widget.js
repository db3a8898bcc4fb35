/* Guichet embeddable widget: <script src=".../widget.js" data-src="<page>?embed=1" async></script>
   inserts the shop page in an iframe that grows to fit its content. */
(function () {
  'use strict';
  var script = document.currentScript;
  if (!script || !script.getAttribute('data-src')) { return; }
  var frame = document.createElement('iframe');
  frame.src = script.getAttribute('data-src');
  frame.title = script.getAttribute('data-title') || 'Billetterie / Tickets';
  frame.setAttribute('loading', 'lazy');
  frame.style.width = '100%';
  frame.style.minHeight = '400px';
  frame.style.border = '0';
  script.parentNode.insertBefore(frame, script);
  var origin = new URL(frame.src, document.baseURI).origin;
  window.addEventListener('message', function (event) {
    if (event.origin === origin && event.source === frame.contentWindow
        && event.data && typeof event.data.guichetHeight === 'number') {
      frame.style.height = Math.ceil(event.data.guichetHeight) + 'px';
    }
  });
}());
