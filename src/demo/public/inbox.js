// The demo inbox: plain browser JavaScript on top of the service's HTTP API and the
// socket.io-client bundle the service serves. Written to be read as an example of a client.
(function () {
  'use strict';

  const PAGE_SIZE = 10;
  // Renew a minted token this long before it expires, so a reconnect never presents a dead one.
  const RENEW_MARGIN_MS = 60_000;
  const REMEMBERED_USER = 'demo-inbox-user';
  // Written after this tab changes the muted kinds: other tabs of this browser hear of it (a
  // `storage` event) and read the preferences again. There is no socket event for preferences.
  const PREFERENCES_CHANGED = 'demo-inbox-preferences';
  /** The kinds this demo knows, with their labels; any other `tipo` shows as itself, in grey. */
  const KINDS = new Map([
    ['pedido', 'Pedido'],
    ['stock', 'Stock'],
    ['gasto', 'Gasto'],
    ['general', 'General'],
  ]);

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
    /** The kinds the user muted (`silenciados`), and every kind seen: one toggle each. */
    muted: new Set(),
    kindsSeen: new Set(KINDS.keys()),
    /** A re-read of the shown items is running, or another was asked for meanwhile. */
    resyncing: false,
    resyncAgain: false,
    /** The highest notification id seen: sent as `since` on every (re)connect for catch-up. */
    lastSeenId: 0,
    /**
     * Whether this connection's catch-up has ended. Before it, a new notification may arrive
     * live ahead of the replay of older missed ones, so its id waits in `newestBeforeCatchUp`:
     * counted as held at once, a reconnect in between would skip the replay.
     */
    caughtUp: false,
    newestBeforeCatchUp: 0,
    socket: null,
    countTimer: null,
    resyncTimer: null,
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

  /** The kind as a label: known ones in their colour, any other as its own name, neutral. */
  function renderKind(tipo) {
    const label = document.createElement('span');
    label.className = KINDS.has(tipo) ? `tipo tipo-${tipo}` : 'tipo tipo-other';
    label.dataset.tipo = tipo;
    label.textContent = KINDS.get(tipo) ?? tipo;
    return label;
  }

  /** Only a site path or an http(s) URL is followed, whatever the server let through. */
  function followableUrl(url) {
    if (typeof url !== 'string') return null;
    const target = new window.URL(url, window.location.href);
    return target.protocol === 'http:' || target.protocol === 'https:' ? target.href : null;
  }

  function actionButton(className, text, notificacion, onClick) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = `action ${className}`;
    button.textContent = text;
    // Every item has the same buttons: the message tells a screen reader which one this is.
    button.setAttribute('aria-describedby', `mensaje-${notificacion.id}`);
    button.addEventListener('click', () => void onClick());
    return button;
  }

  function readToggle(notificacion, leida) {
    return leida
      ? actionButton('toggle-read mark-unread', 'Marcar no leída', notificacion, () =>
          markUnread([notificacion.id]),
        )
      : actionButton('toggle-read mark-one', 'Marcar leída', notificacion, () =>
          markRead([notificacion.id]),
        );
  }

  function renderItem(notificacion) {
    const item = document.createElement('li');
    item.dataset.id = String(notificacion.id);
    item.dataset.fecha = notificacion.fecha;
    item.dataset.tipo = notificacion.tipo;
    item.className = notificacion.leida ? 'read' : 'unread';
    const dot = document.createElement('span');
    dot.className = 'dot';
    const body = document.createElement('div');
    body.className = 'body';
    const url = followableUrl(notificacion.url);
    // A link when it leads somewhere: following it marks it read first.
    const text = document.createElement(url ? 'a' : 'div');
    text.className = 'mensaje';
    text.id = `mensaje-${notificacion.id}`;
    // textContent, never innerHTML: a mensaje is arbitrary text.
    text.textContent = notificacion.mensaje;
    if (url) {
      text.href = url;
      text.addEventListener('click', (event) => void follow(event, notificacion.id, url));
    }
    const time = document.createElement('time');
    time.dateTime = notificacion.fecha;
    time.textContent = dateFormat.format(new Date(notificacion.fecha));
    const meta = document.createElement('div');
    meta.className = 'meta';
    meta.append(renderKind(notificacion.tipo), time);
    body.append(text, meta);
    const actions = document.createElement('div');
    actions.className = 'actions';
    actions.append(
      readToggle(notificacion, notificacion.leida),
      actionButton('delete-one', 'Eliminar', notificacion, () =>
        deleteNotifications([notificacion.id]),
      ),
    );
    item.append(dot, body, actions);
    return item;
  }

  /** Shows an item as read or unread, with the button that does the opposite. */
  function showLeida(id, leida) {
    const item = state.shown.get(id);
    const wanted = leida ? 'read' : 'unread';
    if (!item || item.className === wanted) return;
    item.className = wanted;
    item.querySelector('.toggle-read').replaceWith(readToggle({ id }, leida));
  }

  function showAsRead(id) {
    showLeida(id, true);
  }

  function removeItem(id) {
    state.shown.get(id)?.remove();
    state.shown.delete(id);
  }

  /** After deletions: an emptied list shows the next page, or says there is nothing. */
  function afterRemovals() {
    if (state.shown.size > 0) return;
    $('empty').hidden = false;
    if (state.cursor !== null) {
      $('empty').textContent = 'Cargando…';
      void loadPage().catch(() => undefined);
    } else $('empty').textContent = 'No tienes notificaciones.';
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
    if (where === 'page' || state.caughtUp) {
      state.lastSeenId = Math.max(state.lastSeenId, notificacion.id);
    } else {
      state.newestBeforeCatchUp = Math.max(state.newestBeforeCatchUp, notificacion.id);
    }
    if (state.shown.has(notificacion.id)) return false;
    noteKind(notificacion.tipo);
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
    state.newestBeforeCatchUp = 0;
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

  async function markUnread(ids) {
    try {
      const result = await api('/notifications/api/mark-unread/', {
        method: 'POST',
        body: { ids },
      });
      for (const id of ids) showLeida(id, false);
      setUnread(result.unread_count);
    } catch (error) {
      setStatus(`No se pudo marcar: ${error.message}`, 'off');
    }
  }

  /** Deletes these, or with `ids` empty every read one ("clear read"). */
  async function deleteNotifications(ids) {
    try {
      const result = await api('/notifications/api/delete/', { method: 'POST', body: { ids } });
      const gone = ids.length > 0 ? ids : [...state.shown.keys()].filter(isShownRead);
      for (const id of gone) removeItem(id);
      setUnread(result.unread_count);
      afterRemovals();
    } catch (error) {
      setStatus(`No se pudo eliminar: ${error.message}`, 'off');
    }
  }

  function isShownRead(id) {
    return state.shown.get(id)?.className === 'read';
  }

  /**
   * Follows a notification's link, marking it read first (awaited: leaving the page could
   * cancel the request). A click that opens a new tab marks it read and leaves this page be.
   */
  async function follow(event, id, url) {
    if (isShownRead(id)) return;
    const newTab = event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey;
    if (newTab) {
      void markRead([id]);
      return;
    }
    event.preventDefault();
    await markRead([id]);
    window.location.assign(url);
  }

  /**
   * Another tab marked some read or unread, or deleted some: the socket says only how many are
   * unread now, so the items shown are read again (the pages down to the oldest one shown).
   */
  async function resync() {
    if (state.resyncing) {
      state.resyncAgain = true;
      return;
    }
    state.resyncing = true;
    try {
      do {
        state.resyncAgain = false;
        await resyncOnce();
      } while (state.resyncAgain);
    } catch {
      // The next event or reconnect corrects it.
    } finally {
      state.resyncing = false;
    }
  }

  async function resyncOnce() {
    const items = [...$('items').children];
    if (items.length === 0) return;
    const before = items.map((item) => Number(item.dataset.id));
    const oldest = items.at(-1);
    const oldestShown = { id: Number(oldest.dataset.id), fecha: oldest.dataset.fecha };
    const listed = new Map();
    let cursor = null;
    let page;
    do {
      const query = new URLSearchParams({ limit: '100' });
      if (cursor) query.set('cursor', cursor);
      page = await api(`/notifications/api/list/?${query}`);
      for (const notificacion of page.notifications) listed.set(notificacion.id, notificacion);
      cursor = page.next_cursor;
      // Done once a page reaches the oldest shown: what is not listed by then was deleted.
    } while (cursor !== null && listedBefore(page.notifications.at(-1), oldestShown));
    for (const id of before) {
      const notificacion = listed.get(id);
      if (notificacion) showLeida(id, notificacion.leida);
      else removeItem(id);
    }
    // Ones not pushed to this tab (a muted kind is stored read) go in their place.
    for (const notificacion of listed.values()) addNotification(notificacion, 'event');
    setUnread(page.unread_count);
    afterRemovals();
  }

  function resyncSoon() {
    clearTimeout(state.resyncTimer);
    state.resyncTimer = setTimeout(() => void resync(), 200);
  }

  // --- muting kinds ---------------------------------------------------------------------------

  function noteKind(tipo) {
    if (state.kindsSeen.has(tipo)) return;
    state.kindsSeen.add(tipo);
    renderMutes();
  }

  /** One checkbox per kind: the known ones, then any other seen or muted. */
  function renderMutes() {
    const list = $('mute-list');
    list.replaceChildren();
    for (const tipo of new Set([...state.kindsSeen, ...state.muted])) {
      const row = document.createElement('li');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.id = `mute-${tipo}`;
      box.value = tipo;
      box.checked = state.muted.has(tipo);
      box.addEventListener('change', () => void saveMutes());
      const label = document.createElement('label');
      label.htmlFor = box.id;
      label.append(renderKind(tipo));
      row.append(box, label);
      list.append(row);
    }
  }

  function showMuted(silenciados) {
    state.muted = new Set(silenciados);
    for (const tipo of silenciados) state.kindsSeen.add(tipo);
    renderMutes();
  }

  async function loadMutes() {
    try {
      showMuted((await api('/notifications/api/preferences/')).silenciados);
    } catch {
      // Shown as they were; the next visit reads them again.
    }
  }

  async function saveMutes() {
    const boxes = [...$('mute-list').querySelectorAll('input')];
    const silenciados = boxes.filter((box) => box.checked).map((box) => box.value);
    for (const box of boxes) box.disabled = true;
    try {
      const saved = await api('/notifications/api/preferences/', {
        method: 'PUT',
        body: { silenciados },
      });
      showMuted(saved.silenciados);
      localStorage.setItem(
        PREFERENCES_CHANGED,
        JSON.stringify({ user: state.user.id, at: Date.now() }),
      );
    } catch (error) {
      setStatus(`No se pudo guardar: ${error.message}`, 'off');
      renderMutes();
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
        state.caughtUp = false;
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
    socket.on('unread_count', ({ unread_count }) => {
      // This tab's own changes already show the new count: a different one came from elsewhere.
      const changedElsewhere = unread_count !== state.unread;
      setUnread(unread_count);
      if (changedElsewhere) resyncSoon();
    });
    socket.on('notificaciones_eliminadas', ({ ids }) => {
      for (const id of ids) removeItem(id);
      afterRemovals();
    });
    // More were missed than a catch-up replays: the list is the truth, so show it afresh.
    socket.on('catch_up', ({ complete }) => {
      state.catchUps += 1;
      state.caughtUp = true;
      state.lastSeenId = Math.max(state.lastSeenId, state.newestBeforeCatchUp);
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
    // Another user's muted kinds are not this one's: read them afresh after the list.
    state.kindsSeen = new Set(KINDS.keys());
    showMuted([]);
    $('mutes').hidden = false;
    $('clear-read').disabled = false;
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
    await loadMutes();
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
    $('clear-read').addEventListener('click', () => void deleteNotifications([]));
    // Muted kinds changed in another tab of this browser, or maybe elsewhere while hidden.
    window.addEventListener('storage', (event) => {
      if (event.key === PREFERENCES_CHANGED && state.user) void loadMutes();
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && state.user) void loadMutes();
    });
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
