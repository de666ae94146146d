// The demo inbox: plain browser JavaScript on top of the service's HTTP API and the
// socket.io-client bundle the service serves. Written to be read as an example of a client.
(function () {
  'use strict';

  const PAGE_SIZE = 10;
  // Renew a minted token this long before it expires, so a reconnect never presents a dead one.
  const RENEW_MARGIN_MS = 60_000;
  const REMEMBERED_USER = 'demo-inbox-user';

  const state = {
    /** 'mint' (development: the server lists demo users and signs tokens) or 'paste'. */
    mode: 'paste',
    demoUsers: [],
    user: null,
    token: null,
    tokenExpiresAt: 0,
    /** Notifications shown, by id: live ones and catch-up may repeat an id. */
    shown: new Map(),
    /** Catch-ups done (`catch_up` ends each), so the console or a test can tell one came. */
    catchUps: 0,
    cursor: null,
    unread: 0,
    /** The highest notification id seen: sent as `since` on every (re)connect for catch-up. */
    lastSeenId: 0,
    socket: null,
    countTimer: null,
  };

  const $ = (id) => document.getElementById(id);
  const dateFormat = new Intl.DateTimeFormat('es-ES', { dateStyle: 'medium', timeStyle: 'short' });

  function decodeTokenPayload(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(part));
    } catch {
      return null;
    }
  }

  async function api(path, options = {}) {
    const response = await fetch(path, {
      method: options.method ?? 'GET',
      headers: {
        ...(options.auth === false ? {} : { Authorization: `Bearer ${await freshToken()}` }),
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = Array.isArray(data.message) ? data.message.join('; ') : data.message;
      const error = new Error(message || `${response.status} ${response.statusText}`);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  /** The current token; in development a new one is minted when it is about to expire. */
  async function freshToken() {
    if (state.mode === 'mint' && Date.now() > state.tokenExpiresAt - RENEW_MARGIN_MS) {
      const minted = await api('/demo/token', {
        method: 'POST',
        auth: false,
        body: { user_id: state.user.id },
      });
      state.token = minted.token;
      state.tokenExpiresAt = Date.now() + minted.expires_in * 1000;
    }
    return state.token;
  }

  // --- rendering ---------------------------------------------------------------------------

  function setStatus(text, kind) {
    $('status').textContent = text;
    $('status').dataset.state = kind;
  }

  function setUnread(count) {
    state.unread = Math.max(0, count);
    $('badge').textContent = state.unread > 99 ? '99+' : String(state.unread);
    $('badge').hidden = state.unread === 0;
    $('mark-all').disabled = state.unread === 0;
    document.title = state.unread > 0 ? `(${state.unread}) Notificaciones` : 'Notificaciones';
    // Nothing unread means everything shown is read, whichever tab marked it.
    if (state.unread === 0) for (const id of state.shown.keys()) showAsRead(id);
  }

  function renderItem(notificacion) {
    const item = document.createElement('li');
    item.dataset.id = String(notificacion.id);
    item.dataset.fecha = notificacion.fecha;
    item.className = notificacion.leida ? 'read' : 'unread';
    const dot = document.createElement('span');
    dot.className = 'dot';
    const body = document.createElement('div');
    body.className = 'body';
    const text = document.createElement('div');
    text.className = 'mensaje';
    // textContent, never innerHTML: a mensaje is arbitrary text.
    text.textContent = notificacion.mensaje;
    const time = document.createElement('time');
    time.dateTime = notificacion.fecha;
    time.textContent = dateFormat.format(new Date(notificacion.fecha));
    body.append(text, time);
    item.append(dot, body);
    if (!notificacion.leida) {
      const read = document.createElement('button');
      read.type = 'button';
      read.className = 'action mark-one';
      read.textContent = 'Marcar leída';
      read.addEventListener('click', () => void markRead([notificacion.id]));
      item.append(read);
    }
    return item;
  }

  function showAsRead(id) {
    const item = state.shown.get(id);
    if (!item || item.className === 'read') return;
    item.className = 'read';
    item.querySelector('.mark-one')?.remove();
  }

  /** Whether `a` comes before `b` in the list's order: newest first, by `fecha`, then `id`. */
  function listedBefore(a, b) {
    const byDate = Date.parse(a.fecha) - Date.parse(b.fecha);
    return byDate === 0 ? a.id > b.id : byDate > 0;
  }

  /**
   * Shows a notification once, in the list's order. `where` is 'page' for a listed page (older
   * than everything shown) or 'event' for one that came over the socket: that one may be older
   * than what is shown (catch-up replays what committed or went out late, and a new leader may
   * push again what the list already had), so it goes in its place, not on top; and when it
   * belongs to a page not loaded yet, "load more" shows it there. True when it was added.
   */
  function addNotification(notificacion, where) {
    state.lastSeenId = Math.max(state.lastSeenId, notificacion.id);
    if (state.shown.has(notificacion.id)) return false;
    let next = null;
    if (where === 'event') {
      next =
        [...$('items').children].find((item) =>
          listedBefore(notificacion, { id: Number(item.dataset.id), fecha: item.dataset.fecha }),
        ) ?? null;
      if (next === null && state.cursor !== null) return false;
    }
    const item = renderItem(notificacion);
    state.shown.set(notificacion.id, item);
    $('items').insertBefore(item, next);
    $('empty').hidden = true;
    return true;
  }

  function resetInbox() {
    state.shown.clear();
    state.cursor = null;
    state.lastSeenId = 0;
    $('items').replaceChildren();
    $('empty').hidden = false;
    $('empty').textContent = 'Cargando…';
    $('load-more').hidden = true;
    setUnread(0);
  }

  // --- HTTP ---------------------------------------------------------------------------------

  async function loadPage() {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.cursor) query.set('cursor', state.cursor);
    const page = await api(`/notifications/api/list/?${query}`);
    for (const notificacion of page.notifications) addNotification(notificacion, 'page');
    state.cursor = page.next_cursor;
    $('load-more').hidden = state.cursor === null;
    if (state.shown.size === 0) $('empty').textContent = 'No tienes notificaciones.';
    setUnread(page.unread_count);
  }

  async function relist() {
    resetInbox();
    try {
      await loadPage();
    } catch (error) {
      setStatus(`No se pudo cargar la bandeja: ${error.message}`, 'off');
    }
  }

  async function markRead(ids) {
    try {
      const result = await api('/notifications/api/mark-read/', { method: 'POST', body: { ids } });
      for (const id of ids) showAsRead(id);
      setUnread(result.unread_count);
    } catch (error) {
      setStatus(`No se pudo marcar: ${error.message}`, 'off');
    }
  }

  /**
   * The server counts unread at connect and after mark-read; between those the badge counts
   * arrivals itself, then asks once the burst is over. That also settles a catch-up replay,
   * whose notifications the count at connect already included, and an arrival not shown.
   */
  function refreshCountSoon() {
    clearTimeout(state.countTimer);
    state.countTimer = setTimeout(async () => {
      try {
        const page = await api('/notifications/api/list/?limit=1&unread=true');
        setUnread(page.unread_count);
      } catch {
        // The next event or reconnect corrects it.
      }
    }, 500);
  }

  // --- Socket.IO ------------------------------------------------------------------------------

  function connect() {
    state.socket?.close();
    // `auth` as a function runs on every (re)connect: a renewed token, and `since` for catch-up.
    const socket = io({
      path: '/ws/notificaciones/',
      auth: (send) => {
        freshToken().then(
          (token) => send({ token, since: state.lastSeenId }),
          () => send({}),
        );
      },
    });
    state.socket = socket;
    let renewed = false;
    socket.on('connect', () => {
      renewed = false;
      setStatus('En directo', 'live');
    });
    socket.on('disconnect', (reason) => {
      setStatus('Reconectando…', 'reconnecting');
      // The server closed it (the token expired): socket.io does not retry that on its own.
      if (reason === 'io server disconnect') {
        if (state.mode === 'mint') socket.connect();
        else setStatus('Sesión caducada: pega un token nuevo', 'off');
      }
    });
    socket.on('connect_error', (error) => {
      if (error.message === 'unauthorized') {
        // A minted token may predate a new server key: mint once more, then give up.
        if (state.mode === 'mint' && !renewed) {
          renewed = true;
          state.tokenExpiresAt = 0;
          socket.connect();
          return;
        }
        setStatus('Token rechazado', 'off');
        return;
      }
      setStatus('Reconectando…', 'reconnecting');
    });
    socket.on('unread_count', ({ unread_count }) => setUnread(unread_count));
    // More were missed than a catch-up replays: the list is the truth, so show it afresh.
    socket.on('catch_up', ({ complete }) => {
      state.catchUps += 1;
      if (!complete) void relist();
    });
    socket.on('notificacion_mensaje', ({ notificacion }) => {
      const known = state.shown.has(notificacion.id);
      const added = addNotification(notificacion, 'event');
      if (known || notificacion.leida) return;
      // One on a page not loaded yet was most likely counted already: the recount settles it.
      if (added) setUnread(state.unread + 1);
      refreshCountSoon();
    });
  }

  // --- signing in -----------------------------------------------------------------------------

  async function start() {
    $('signin-error').textContent = '';
    $('who').textContent = state.user.username ?? `usuario #${state.user.id}`;
    $('send').hidden = state.mode === 'mint' && !state.user.is_staff;
    if (state.mode === 'mint') $('send-to').value = String(state.user.id);
    resetInbox();
    try {
      await loadPage();
    } catch (error) {
      $('signin-error').textContent = error.message;
      $('empty').textContent = 'No se pudo cargar la bandeja.';
      return;
    }
    connect();
  }

  async function signInAsDemoUser(id) {
    const user = state.demoUsers.find((candidate) => candidate.id === id);
    if (!user) return;
    state.user = user;
    state.tokenExpiresAt = 0;
    localStorage.setItem(REMEMBERED_USER, String(id));
    await start();
  }

  async function signInWithToken(token) {
    const payload = decodeTokenPayload(token);
    if (!payload || payload.sub === undefined) {
      $('signin-error').textContent = 'Eso no parece un JWT.';
      return;
    }
    state.token = token;
    state.user = { id: Number(payload.sub), username: undefined, is_staff: undefined };
    await start();
  }

  function fillSendTargets() {
    const select = $('send-to');
    select.replaceChildren();
    if (state.mode === 'mint') {
      for (const user of state.demoUsers) select.append(new Option(user.username, String(user.id)));
    } else {
      select.append(new Option('Estos ids…', 'ids'));
      $('send-ids').hidden = false;
    }
    select.append(new Option('Todo el staff', 'staff'));
  }

  async function send(event) {
    event.preventDefault();
    const target = $('send-to').value;
    const mensaje = $('send-text').value;
    const body =
      target === 'staff'
        ? { staff: true, mensaje }
        : target === 'ids'
          ? {
              usuarios: $('send-ids')
                .value.split(',')
                .map((id) => Number(id.trim())),
              mensaje,
            }
          : { usuarios: [Number(target)], mensaje };
    const result = $('send-result');
    try {
      const sent = await api('/notifications/api/send/', { method: 'POST', body });
      result.className = 'ok';
      result.textContent = `Enviada (${sent.created})`;
    } catch (error) {
      result.className = 'error';
      result.textContent = error.message;
    }
  }

  async function init() {
    $('send-text').value = 'Pedido #128 listo para servir en la mesa 4';
    $('load-more').addEventListener('click', () => void loadPage());
    $('mark-all').addEventListener('click', () => void markRead([]));
    // The bell opens the inbox: it brings it into view (never hides it) and moves focus there.
    $('bell').addEventListener('click', () => {
      const inbox = $('inbox');
      inbox.hidden = false;
      inbox.scrollIntoView({ behavior: 'smooth', block: 'start' });
      inbox.focus({ preventScroll: true });
    });
    $('send-form').addEventListener('submit', (event) => void send(event));
    $('pick-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void signInAsDemoUser(Number($('pick-user').value));
    });
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void signInWithToken($('token-input').value.trim());
    });

    // Development lists demo users to a browser on the same machine; elsewhere (production, or
    // a page opened from another machine) the list is refused and a token is pasted.
    const response = await fetch('/demo/users').catch(() => null);
    if (response?.ok) {
      state.mode = 'mint';
      state.demoUsers = (await response.json()).users;
      for (const user of state.demoUsers) {
        const label = user.is_staff ? `${user.username} (staff)` : user.username;
        $('pick-user').append(new Option(label, String(user.id)));
      }
      $('pick-form').hidden = false;
    } else {
      $('token-form').hidden = false;
    }
    fillSendTargets();

    const remembered = Number(localStorage.getItem(REMEMBERED_USER));
    if (state.mode === 'mint' && state.demoUsers.some((user) => user.id === remembered)) {
      $('pick-user').value = String(remembered);
      await signInAsDemoUser(remembered);
    }
  }

  // For poking from the browser console (and the browser test): the live socket and state.
  window.demoInbox = state;
  void init();
})();
