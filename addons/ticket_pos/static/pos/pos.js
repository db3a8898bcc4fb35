/* The box office terminal: sale, after-sale and cash session on the box
 * office API. The sale in progress is kept in localStorage; nothing is sent
 * while the server cannot be reached. */
(function () {
  'use strict';
  var body = document.body;
  var API = body.dataset.api;
  var LANG = body.dataset.lang;
  var T = JSON.parse(document.getElementById('messages').textContent)[LANG];
  var STORE = 'guichet-pos';
  var $ = function (id) { return document.getElementById(id); };

  var state = load() || {};
  state.cart = state.cart || {};        // "session:tariff" -> quantity
  state.seats = state.seats || {};      // session -> [seat ids]
  state.buyer = state.buyer || {};
  state.payments = state.payments || {};
  state.codes = state.codes || {};
  var catalogue = [];
  var methods = [];
  var quote = null;
  var lastSale = null;
  var lastTickets = null;  // the PDF of the last sale's tickets
  var quoteCount = 0;
  var currentOrder = null;
  var online = navigator.onLine;

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)); }
    catch (e) { return null; }
  }
  function save() {
    localStorage.setItem(STORE, JSON.stringify(state));
  }
  function t(key, values) {
    var text = T[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.replace('%(' + name + ')s', values[name]);
    });
    return text;
  }
  function money(value) {
    if (value === null || value === undefined || value === '') { return '—'; }
    return new Intl.NumberFormat(LANG, {
      style: 'currency', currency: state.currency || 'EUR'}).format(
        Number(value));
  }
  function cents(value) { return Math.round(Number(value || 0) * 100); }
  function amount(c) { return (c / 100).toFixed(2); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'text') { node.textContent = attrs[name]; }
      else if (name === 'disabled') { node.disabled = !!attrs[name]; }
      else if (name.slice(0, 2) === 'on') {
        node.addEventListener(name.slice(2), attrs[name]);
      } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }
  function say(text, error) {
    var node = $('message');
    node.textContent = text || '';
    node.className = error ? 'error' : 'info';
  }

  // Network

  function setOnline(value) {
    var was = online;
    online = value;
    $('offline').hidden = online;
    body.dataset.online = online ? 'yes' : 'no';
    if (online && !was) { say(t('back_online')); refresh(); }
  }
  window.addEventListener('online', function () { ping(); });
  window.addEventListener('offline', function () { setOnline(false); });
  function ping() {
    if (!state.token || !state.point) { setOnline(navigator.onLine); return; }
    request('GET', '/points/' + state.point + '/cash-session').then(
      function () { setOnline(true); }, function () {});
  }
  setInterval(function () { if (!online) { ping(); } }, 5000);
  // the places sold by the other terminals: the catalogue every minute
  setInterval(function () {
    if (online && state.token && body.dataset.screen === 'sale') {
      loadCatalogue();
    }
  }, 60000);

  function request(method, path, data, raw) {
    var headers = {};
    if (state.token) { headers.Authorization = 'Session ' + state.token; }
    if (data !== undefined) { headers['Content-Type'] = 'application/json'; }
    return fetch(API + path, {
      method: method, headers: headers,
      body: data !== undefined ? JSON.stringify(data) : undefined,
    }).catch(function (error) {
      setOnline(false);
      throw {network: true, message: t('offline')};
    }).then(function (response) {
      setOnline(true);
      if (response.status === 401 && path !== '/login') {
        state.token = null; save(); show('login');
      }
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(
          function (reply) {
            throw {status: response.status,
              message: (reply.error && reply.error.message) ||
                response.statusText};
          });
      }
      return raw ? response.blob() : response.json();
    });
  }
  function fail(error) {
    // A lost network is shown by the banner; the last message stays.
    if (!error.network) { say(error.message, true); }
  }

  // Screens

  function show(name) {
    ['login', 'open', 'sale', 'after', 'close'].forEach(function (screen) {
      $('screen-' + screen).hidden = screen !== name;
    });
    var inside = ['sale', 'after', 'close'].indexOf(name) >= 0;
    $('tabs').hidden = !inside;
    $('logout').hidden = !state.token;
    Array.prototype.forEach.call(document.querySelectorAll('.tab'),
      function (tab) {
        tab.classList.toggle('active', tab.dataset.tab === name);
      });
    body.dataset.screen = name;
  }
  Array.prototype.forEach.call(document.querySelectorAll('.tab'),
    function (tab) {
      tab.addEventListener('click', function () {
        show(tab.dataset.tab);
        if (tab.dataset.tab === 'close') { loadCounts(); }
      });
    });

  function refresh() {
    if (!state.token) { show('login'); return Promise.resolve(); }
    return request('GET', '/points/' + state.point + '/cash-session').then(
      function (reply) {
        methods = reply.methods;
        state.currency = reply.point.currency;
        state.printer = reply.point.printer || 'thermal';
        $('point-name').textContent = reply.point.name;
        $('operator').textContent = state.operator || '';
        save();
        if (!reply.session) { show('open'); return; }
        state.session = reply.session;
        if (['after', 'close'].indexOf(body.dataset.screen) < 0) {
          show('sale');
        }
        renderMethods();
        return loadCatalogue();
      }, fail);
  }

  // Login and cash session

  $('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    request('POST', '/login', {
      login: $('login').value, password: $('password').value,
    }).then(function (reply) {
      state.token = reply.token;
      state.operator = reply.user.name;
      var choice = reply.points.filter(function (p) {
        return String(p.id) === $('point').value; })[0];
      state.point = (choice || reply.points[0] || {}).id;
      if (reply.points.length > 1 && !choice) {
        var select = $('point');
        select.innerHTML = '';
        reply.points.forEach(function (p) {
          select.appendChild(el('option', {value: p.id, text: p.name}));
        });
        $('point-choice').hidden = false;
      }
      $('password').value = '';
      save();
      refresh();
    }, fail);
  });
  $('logout').addEventListener('click', function () {
    request('POST', '/logout', {}).catch(function () {}).then(function () {
      state.token = null; save(); show('login');
    });
  });
  $('open-form').addEventListener('submit', function (event) {
    event.preventDefault();
    request('POST', '/points/' + state.point + '/cash-session', {
      float: $('float').value.replace(',', '.'),
    }).then(function () { say(t('opened')); refresh(); }, fail);
  });

  // Catalogue and cart

  function loadCatalogue() {
    return request('GET', '/points/' + state.point + '/catalogue').then(
      function (reply) {
        catalogue = reply.sessions;
        // counted, for whoever waits for the catalogue asked again
        body.dataset.catalogueLoads =
          (Number(body.dataset.catalogueLoads) || 0) + 1;
        if (!catalogue.some(function (s) {
          return s.id === state.current; })) {
          state.current = catalogue.length ? catalogue[0].id : null;
        }
        renderSessions();
        renderCart();
      }, fail);
  }
  function sessionOf(id) {
    return catalogue.filter(function (s) { return s.id === id; })[0];
  }
  function when(iso) {
    var date = new Date(iso);
    var today = new Date().toDateString() === date.toDateString();
    return (today ? t('today') + ' ' : date.toLocaleDateString(LANG, {
      weekday: 'short', day: 'numeric', month: 'short'}) + ' ') +
      date.toLocaleTimeString(LANG, {hour: '2-digit', minute: '2-digit'});
  }
  function renderSessions() {
    var list = $('sessions');
    list.innerHTML = '';
    if (!catalogue.length) {
      list.appendChild(el('li', {text: t('no_session')}));
    }
    catalogue.forEach(function (session) {
      list.appendChild(el('li', {}, [el('button', {
        type: 'button', 'class': 'session' +
          (session.id === state.current ? ' active' : ''),
        'data-session': session.id,
        onclick: function () {
          state.current = session.id; save(); renderSessions();
        },
        text: when(session.start) + ' — ' + session.event.name +
          (session.name ? ' (' + session.name + ')' : '') + ' · ' +
          t('available', {count: session.available}),
      })]));
    });
    renderTariffs();
  }
  function renderTariffs() {
    var list = $('tariffs');
    list.innerHTML = '';
    var session = sessionOf(state.current);
    if (!session) { $('seating').hidden = true; return; }
    session.tariffs.forEach(function (tariff) {
      var key = session.id + ':' + tariff.id;
      var quantity = state.cart[key] || 0;
      list.appendChild(el('li', {'class': 'tariff'}, [
        el('button', {type: 'button', 'class': 'minus',
          'aria-label': '-', text: '−',
          onclick: function () { add(key, -1); }}),
        el('button', {type: 'button', 'class': 'tap',
          'data-tariff': tariff.id,
          onclick: function () { add(key, 1); },
          text: tariff.name + ' · ' + money(tariff.price_tax_included)}),
        el('span', {'class': 'quantity', text: String(quantity)}),
        el('button', {type: 'button', 'class': 'plus', 'aria-label': '+',
          text: '+', onclick: function () { add(key, 1); }}),
      ]));
    });
    renderSeating(session);
  }
  function add(key, delta) {
    var quantity = Math.max((state.cart[key] || 0) + delta, 0);
    if (quantity) { state.cart[key] = quantity; }
    else { delete state.cart[key]; }
    lastSale = null; lastTickets = null;
    $('done').hidden = true;
    save();
    renderTariffs();
    renderCart();
  }
  function places(sessionId) {
    var count = 0;
    Object.keys(state.cart).forEach(function (key) {
      if (Number(key.split(':')[0]) === sessionId) {
        count += state.cart[key];
      }
    });
    return count;
  }
  function cartLines() {
    return Object.keys(state.cart).map(function (key) {
      var parts = key.split(':');
      return {session: Number(parts[0]), tariff: Number(parts[1]),
        quantity: state.cart[key]};
    });
  }
  function renderCart() {
    var list = $('cart');
    list.innerHTML = '';
    var lines = cartLines();
    if (!lines.length) {
      list.appendChild(el('li', {'class': 'empty', text: t('empty_cart')}));
    }
    lines.forEach(function (line) {
      var session = sessionOf(line.session);
      var tariff = session && session.tariffs.filter(function (x) {
        return x.id === line.tariff; })[0];
      list.appendChild(el('li', {text: line.quantity + ' × ' +
        (tariff ? tariff.name : line.tariff) + ' — ' +
        (session ? session.event.name + ', ' + when(session.start) : '')}));
    });
    requestQuote();
  }
  var quoteTimer = null;
  function requestQuote() {
    clearTimeout(quoteTimer);
    quote = null;
    renderTotals();
    var lines = cartLines();
    if (!lines.length || !online) { return; }
    var asked = ++quoteCount;
    quoteTimer = setTimeout(function () {
      request('POST', '/points/' + state.point + '/quote', quoteBody())
        .then(function (reply) {
          // a quote answered after a later tap is not shown
          if (asked === quoteCount) { quote = reply; renderTotals(); }
        }, fail);
    }, 150);
  }
  function quoteBody() {
    var data = {lines: cartLines()};
    if (state.codes.promo) { data.promo_code = state.codes.promo; }
    if (state.codes.credit) { data.credit_codes = [state.codes.credit]; }
    return data;
  }
  function renderTotals() {
    $('total').textContent = quote ? money(quote.total) : '—';
    $('tax').textContent = quote ? money(quote.tax) : '—';
    $('to-pay').textContent = quote ? money(quote.to_pay) : '—';
    $('discount-line').hidden = !quote || !Number(quote.discount);
    $('discount').textContent = quote ? money(quote.discount) : '';
    $('credit-line').hidden = !quote || !Number(quote.credit);
    $('credit').textContent = quote ? money(quote.credit) : '';
    renderPayment();
  }

  // Seats

  function renderSeating(session) {
    var box = $('seating');
    box.hidden = !session.seated;
    if (!session.seated) { return; }
    var wanted = places(session.id);
    var picked = state.seats[session.id] || [];
    $('best').checked = !picked.length;
    $('seat-help').textContent = picked.length ?
      t('seats_picked', {count: picked.length}) :
      (wanted ? t('pick_seats', {count: wanted}) : '');
    request('GET', '/points/' + state.point + '/sessions/' + session.id +
      '/seats').then(function (map) { drawMap(session, map); }, fail);
  }
  function drawMap(session, map) {
    var ns = 'http://www.w3.org/2000/svg';
    var bounds = map.map.bounds;
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', [bounds.x, bounds.y, bounds.width,
      bounds.height].join(' '));
    svg.setAttribute('id', 'seat-svg');
    var picked = state.seats[session.id] || [];
    var colors = {};
    map.categories.forEach(function (c) { colors[c.id] = c.color; });
    map.sections.forEach(function (section) {
      section.rows.forEach(function (row) {
        row.seats.forEach(function (seat) {
          var circle = document.createElementNS(ns, 'circle');
          circle.setAttribute('cx', seat.x);
          circle.setAttribute('cy', seat.y);
          circle.setAttribute('r', 0.42);
          circle.setAttribute('data-seat', seat.id);
          var mine = picked.indexOf(seat.id) >= 0;
          circle.setAttribute('class', 'seat ' + (mine ? 'picked' :
            seat.status));
          if (seat.status === 'free' && !mine) {
            circle.setAttribute('fill', colors[seat.category] || '#4a8');
          }
          var title = document.createElementNS(ns, 'title');
          title.textContent = (row.name || '') + ' ' + seat.label;
          circle.appendChild(title);
          if (seat.status === 'free' || mine) {
            circle.addEventListener('click', function () {
              toggleSeat(session, seat.id);
            });
          }
          svg.appendChild(circle);
        });
      });
    });
    var holder = $('seatmap');
    holder.innerHTML = '';
    holder.appendChild(svg);
  }
  function toggleSeat(session, seatId) {
    var picked = state.seats[session.id] || [];
    var index = picked.indexOf(seatId);
    if (index >= 0) { picked.splice(index, 1); }
    else if (picked.length < places(session.id)) { picked.push(seatId); }
    state.seats[session.id] = picked;
    save();
    renderSeating(session);
  }
  $('best').addEventListener('change', function () {
    if ($('best').checked) {
      delete state.seats[state.current];
      save();
      renderTariffs();
    }
  });

  // Buyer and codes

  function renderBuyer() {
    var buyer = state.buyer;
    $('buyer-name').value = buyer.name || '';
    $('buyer-email').value = buyer.email || '';
    $('buyer-phone').value = buyer.phone || '';
    $('buyer-label').textContent = buyer.name || buyer.email || '';
  }
  ['name', 'email', 'phone'].forEach(function (field) {
    $('buyer-' + field).addEventListener('input', function () {
      state.buyer[field] = $('buyer-' + field).value;
      delete state.buyer.party;
      save();
      $('buyer-label').textContent = state.buyer.name || '';
    });
  });
  var searchTimer = null;
  $('buyer-search').addEventListener('input', function () {
    clearTimeout(searchTimer);
    var text = $('buyer-search').value.trim();
    if (text.length < 2) { $('buyer-results').innerHTML = ''; return; }
    searchTimer = setTimeout(function () {
      request('GET', '/points/' + state.point + '/customers?q=' +
        encodeURIComponent(text)).then(function (reply) {
          var list = $('buyer-results');
          list.innerHTML = '';
          reply.customers.forEach(function (customer) {
            list.appendChild(el('li', {}, [el('button', {type: 'button',
              text: customer.name + (customer.email ?
                ' <' + customer.email + '>' : ''),
              onclick: function () {
                state.buyer = {party: customer.id, name: customer.name,
                  email: customer.email || '',
                  phone: customer.phone || ''};
                save(); renderBuyer(); list.innerHTML = '';
              }})]));
          });
        }, fail);
    }, 200);
  });
  $('apply-codes').addEventListener('click', function () {
    state.codes = {promo: $('promo-code').value.trim(),
      credit: $('credit-code').value.trim()};
    save();
    requestQuote();
  });

  // Payment

  function renderMethods() {
    var box = $('methods');
    box.innerHTML = '';
    methods.forEach(function (method) {
      var input = el('input', {id: 'pay-' + method.id,
        'data-method': method.id, inputmode: 'decimal',
        'class': 'amount', value: state.payments[method.id] || ''});
      input.addEventListener('input', function () {
        state.payments[method.id] = input.value.replace(',', '.');
        save();
        renderPayment();
      });
      box.appendChild(el('div', {'class': 'method'}, [
        el('button', {type: 'button', 'class': 'fill',
          'data-fill': method.id, text: method.name,
          onclick: function () { fill(method); }}),
        input]));
    });
  }
  function due() { return quote ? cents(quote.to_pay) : 0; }
  function received() {
    var total = 0;
    methods.forEach(function (m) {
      total += cents(state.payments[m.id]);
    });
    return total;
  }
  function fill(method) {
    var others = received() - cents(state.payments[method.id]);
    state.payments[method.id] = amount(Math.max(due() - others, 0));
    save();
    renderMethods();
    renderPayment();
  }
  function renderPayment() {
    var got = received();
    $('received').textContent = money(amount(got));
    $('change').textContent = quote ? money(amount(Math.max(got - due(), 0)))
      : '—';
    // while the price of the cart is asked again (a tap, back online), the
    // amounts to fill and the sale wait for it
    var pending = !quote && cartLines().length > 0;
    $('pay').disabled = pending || selling;
    Array.prototype.forEach.call(document.querySelectorAll('button.fill'),
      function (button) { button.disabled = pending; });
  }
  var selling = false;
  $('pay').addEventListener('click', function () {
    if (!online) { say(t('offline_refused'), true); return; }
    var lines = cartLines();
    if (!lines.length) { say(t('empty_cart'), true); return; }
    if (quote && received() < due()) { say(t('not_enough'), true); return; }
    var data = quoteBody();
    data.payments = methods.filter(function (m) {
      return cents(state.payments[m.id]) > 0;
    }).map(function (m) {
      return {method: m.id, amount: amount(cents(state.payments[m.id]))};
    });
    var seats = Object.keys(state.seats).filter(function (s) {
      return state.seats[s].length; }).map(function (s) {
        return {session: Number(s), seats: state.seats[s]}; });
    if (seats.length) { data.seats = seats; }
    var buyer = {};
    ['party', 'name', 'email', 'phone'].forEach(function (field) {
      if (state.buyer[field]) { buyer[field] = state.buyer[field]; }
    });
    if (Object.keys(buyer).length) { data.buyer = buyer; }
    // the tickets' PDF comes with the sale: printed without a round trip
    data.print = state.printer || 'thermal';
    selling = true;
    $('pay').disabled = true;
    request('POST', '/points/' + state.point + '/sales', data).then(
      function (operation) {
        lastSale = operation;
        lastTickets = operation.tickets_pdf ? pdfBlob(operation.tickets_pdf)
          : null;
        delete operation.tickets_pdf;
        $('done-order').textContent = operation.order.number;
        $('done-change').textContent = money(operation.change);
        $('done').hidden = false;
        body.dataset.lastOrder = operation.order.number;
        body.dataset.ticketsReady = lastTickets ? 'yes' : 'no';
        resetSale();
        say(t('sold') + ' ' + operation.order.number);
        (operation.sessions || []).forEach(function (left) {
          var session = sessionOf(left.id);
          if (session) { session.available = left.available; }
        });
        renderSessions();
      }, function (error) {
        say(error.network ? t('offline_refused') : error.message, true);
      }).then(function () { selling = false; renderPayment(); });
  });
  function resetSale() {
    state.cart = {}; state.seats = {}; state.buyer = {};
    state.payments = {}; state.codes = {};
    $('promo-code').value = ''; $('credit-code').value = '';
    save();
    renderBuyer();
    renderMethods();
    renderTariffs();
    renderCart();
  }
  $('clear').addEventListener('click', function () {
    lastSale = null; lastTickets = null; $('done').hidden = true; resetSale();
  });
  $('new-sale').addEventListener('click', function () {
    $('done').hidden = true; resetSale();
  });

  // Output

  function pdfBlob(data) {
    var bytes = atob(data);
    var array = new Uint8Array(bytes.length);
    for (var i = 0; i < bytes.length; i++) { array[i] = bytes.charCodeAt(i); }
    return new Blob([array], {type: 'application/pdf'});
  }
  function showPdf(blob) {
    var url = URL.createObjectURL(blob);
    $('pdf-frame').src = url;
    $('pdf-dialog').showModal();
    body.dataset.pdf = blob.type + ' ' + blob.size;
    say(t('pdf_ready'));
  }
  function openPdf(path) {
    return request('GET', '/points/' + state.point + path, undefined,
      true).then(showPdf, fail);
  }
  $('pdf-print').addEventListener('click', function () {
    try { $('pdf-frame').contentWindow.print(); } catch (e) {}
  });
  $('pdf-close').addEventListener('click', function () {
    $('pdf-dialog').close();
  });
  $('pdf-dialog').addEventListener('close', function () {
    var url = $('pdf-frame').src;
    $('pdf-frame').src = 'about:blank';
    if (url.slice(0, 5) === 'blob:') { URL.revokeObjectURL(url); }
  });
  $('print-tickets').addEventListener('click', function () {
    if (lastSale && lastTickets) { showPdf(lastTickets); }
    else if (lastSale) {
      openPdf('/orders/' + lastSale.order.id + '/tickets.pdf');
    }
  });
  $('print-receipt').addEventListener('click', function () {
    if (lastSale) { openPdf('/operations/' + lastSale.id + '/receipt.pdf'); }
  });
  $('email-tickets').addEventListener('click', function () {
    if (!lastSale) { return; }
    request('POST', '/points/' + state.point + '/orders/' +
      lastSale.order.id + '/email', {}).then(function (reply) {
        say(t('emailed', {email: reply.sent_to}));
      }, fail);
  });

  // After-sale

  $('search-form').addEventListener('submit', function (event) {
    event.preventDefault();
    request('GET', '/points/' + state.point + '/orders?q=' +
      encodeURIComponent($('order-search').value.trim())).then(
      function (reply) {
        var list = $('orders');
        list.innerHTML = '';
        $('order').hidden = true;
        reply.orders.forEach(function (order) {
          list.appendChild(el('li', {}, [el('button', {type: 'button',
            'class': 'order', 'data-order': order.number,
            text: order.number + ' — ' + (order.buyer || order.email || '') +
              ' — ' + money(order.total) + ' — ' + order.state,
            onclick: function () { showOrder(order); }})]));
        });
      }, fail);
  });
  function showOrder(order) {
    currentOrder = order;
    $('order').hidden = false;
    $('exchange-pay').hidden = true;
    $('order-title').textContent = order.number + ' (' + order.state + ')';
    $('order-info').textContent = (order.buyer || '') + ' ' +
      (order.email || '') + ' — ' + money(order.total);
    var list = $('order-tickets');
    list.innerHTML = '';
    order.tickets.forEach(function (ticket) {
      list.appendChild(el('li', {}, [
        el('span', {text: ticket.number + ' ' + (ticket.type || '') + ' ' +
          (ticket.seat || '') + ' ' + (ticket.holder_name || '') + ' (' +
          ticket.state + ')'}),
        el('button', {type: 'button', 'class': 'holder',
          text: t('change_holder'), onclick: function () {
            var name = window.prompt(t('holder_prompt'),
              ticket.holder_name || '');
            if (!name) { return; }
            request('POST', '/points/' + state.point + '/tickets/' +
              ticket.id + '/holder', {name: name}).then(function (op) {
                say(t('holder_changed'));
                showOrder(op.order);
              }, fail);
          }}),
        el('button', {type: 'button', 'class': 'refund-ticket',
          'data-ticket': ticket.number, 'data-mode': 'cash',
          text: t('refund_ticket_cash'), disabled: !refundable(ticket),
          onclick: function () { refundTicket(ticket, 'cash'); }}),
        el('button', {type: 'button', 'class': 'refund-ticket',
          'data-ticket': ticket.number, 'data-mode': 'credit',
          text: t('refund_ticket_credit'), disabled: !refundable(ticket),
          onclick: function () { refundTicket(ticket, 'credit'); }})]));
    });
    function refundable(ticket) {
      return order.state === 'paid' && ticket.state === 'valid';
    }
    var paid = order.state === 'paid';
    ['refund-cash', 'refund-credit', 'exchange'].forEach(function (id) {
      $(id).disabled = !paid;
    });
    var select = $('exchange-session');
    select.innerHTML = '';
    var sessions = order.lines.map(function (l) { return l.session; });
    var event = null;
    catalogue.forEach(function (s) {
      if (sessions.indexOf(s.id) >= 0) { event = s.event.id; }
    });
    catalogue.forEach(function (s) {
      if (sessions.indexOf(s.id) < 0 && (event === null ||
          s.event.id === event)) {
        select.appendChild(el('option', {value: s.id,
          text: when(s.start) + ' — ' + s.event.name}));
      }
    });
  }
  function refund(mode) {
    if (!currentOrder || !window.confirm(t('confirm_refund',
      {order: currentOrder.number}))) { return; }
    request('POST', '/points/' + state.point + '/orders/' + currentOrder.id +
      '/refund', {mode: mode}).then(function (op) {
        lastSale = op; lastTickets = null;
        say(t('refunded') + (op.credit ? ' ' + op.credit : ' ' +
          t('cash_back', {amount: money(-Number(op.amount))})));
        showOrder(op.order);
      }, fail);
  }
  function refundTicket(ticket, mode) {
    if (!window.confirm(t('confirm_refund_ticket',
      {ticket: ticket.number}))) { return; }
    request('POST', '/points/' + state.point + '/tickets/' + ticket.id +
      '/refund', {mode: mode}).then(function (op) {
        lastSale = op; lastTickets = null;
        say(t('refunded') + (op.credit ? ' ' + op.credit : ' ' +
          t('cash_back', {amount: money(-Number(op.amount))})));
        showOrder(op.order);
        loadCatalogue();
      }, fail);
  }
  $('refund-cash').addEventListener('click', function () { refund('cash'); });
  $('refund-credit').addEventListener('click', function () {
    refund('credit');
  });
  $('reprint').addEventListener('click', function () {
    if (currentOrder) {
      openPdf('/orders/' + currentOrder.id + '/tickets.pdf');
    }
  });
  function exchange(payments) {
    var data = {session: Number($('exchange-session').value)};
    if (payments) { data.payments = payments; }
    return request('POST', '/points/' + state.point + '/orders/' +
      currentOrder.id + '/exchange', data).then(function (op) {
        say(t('exchanged') + ' ' + op.new_order.number + (
          Number(op.amount) < 0 ? ' ' + t('cash_back',
            {amount: money(-Number(op.amount))}) : ''));
        loadCatalogue();
        showOrder(op.new_order);
      });
  }
  $('exchange').addEventListener('click', function () {
    if (!currentOrder || !$('exchange-session').value) { return; }
    exchange().catch(function (error) {
      var match = /([0-9]+[.,][0-9]{2})/.exec(error.message || '');
      if (error.status === 400 && match) {
        var select = $('exchange-method');
        select.innerHTML = '';
        methods.forEach(function (m) {
          select.appendChild(el('option', {value: m.id, text: m.name}));
        });
        $('exchange-amount').value = match[1].replace(',', '.');
        $('exchange-pay').hidden = false;
      }
      fail(error);
    });
  });
  $('exchange-confirm').addEventListener('click', function () {
    exchange([{method: Number($('exchange-method').value),
      amount: $('exchange-amount').value.replace(',', '.')}]).catch(fail);
  });

  // Close

  function loadCounts() {
    $('z').hidden = true;
    $('close-form').hidden = false;
    request('GET', '/points/' + state.point + '/cash-session').then(
      function (reply) {
        var rows = $('counts').querySelector('tbody');
        rows.innerHTML = '';
        if (!reply.session) { show('open'); return; }
        reply.session.expected.forEach(function (line) {
          var method = methods.filter(function (m) {
            return m.id === line.method; })[0];
          if (!method) { return; }
          rows.appendChild(el('tr', {}, [
            el('td', {text: line.name}),
            el('td', {text: money(line.amount)}),
            el('td', {}, [el('input', {'data-count': line.method,
              inputmode: 'decimal', value: ''})])]));
        });
      }, fail);
  }
  $('close-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var counts = [];
    Array.prototype.forEach.call(document.querySelectorAll('[data-count]'),
      function (input) {
        counts.push({method: Number(input.dataset.count),
          amount: (input.value || '0').replace(',', '.')});
      });
    request('POST', '/points/' + state.point + '/cash-session/close',
      {counts: counts}).then(function (session) {
        state.closed = session.id;
        save();
        $('close-form').hidden = true;
        $('z').hidden = false;
        var rows = $('z-table').querySelector('tbody');
        rows.innerHTML = '';
        session.counts.forEach(function (c) {
          rows.appendChild(el('tr', {'class': Number(c.difference) ?
            'gap' : ''}, [
            el('td', {text: c.name}), el('td', {text: money(c.expected)}),
            el('td', {text: money(c.counted)}),
            el('td', {text: money(c.difference)})]));
        });
        say(t('closed'));
      }, fail);
  });
  $('print-z').addEventListener('click', function () {
    openPdf('/cash-sessions/' + state.closed + '/z-report.pdf?printer=a4');
  });
  $('reopen').addEventListener('click', function () { show('open'); });

  // Start

  renderBuyer();
  setOnline(navigator.onLine);
  refresh();
})();
