import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import request from 'supertest';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { bearer, signToken } from './support/tokens';
import { holdDeliveryLead, leaderHasRead, outboxDrained } from './support/delivery';

// Debian's chromium package; no browser download (playwright-core ships none).
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts');
// Playwright's launch() starts from a fresh, empty profile; these keep Chromium off the network
// beyond the page under test (a closed network otherwise refuses its background connections).
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const WAIT_MS = 15_000;

const describeWithChromium = existsSync(CHROMIUM) ? describe : describe.skip;
if (!existsSync(CHROMIUM)) {
  process.stderr.write(
    `browser test skipped: no Chromium at ${CHROMIUM} (install the chromium package or set CHROMIUM_PATH)\n`,
  );
}

/** The unread badge as the user sees it: 0 when hidden. */
async function badge(page: Page): Promise<number> {
  const element = page.locator('#badge');
  return (await element.isHidden()) ? 0 : Number(await element.textContent());
}

/** Resolves once `probe` returns `expected`, or fails naming what did not happen. */
async function eventually<T>(what: string, probe: () => Promise<T>, expected: T): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await probe();
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what}: expected ${String(expected)}, still ${String(last)}`);
}

const items = (page: Page) => page.locator('#items li');
const itemTexts = (page: Page) => page.locator('#items li .mensaje').allTextContents();
const item = (page: Page, mensaje: string) => page.locator('#items li', { hasText: mensaje });
/** The item's kind label: its text and its style (known kinds have their own, others a neutral one). */
const kindOf = async (page: Page, mensaje: string) => {
  const label = item(page, mensaje).locator('.tipo');
  return { text: await label.textContent(), className: await label.getAttribute('class') };
};

describeWithChromium('demo inbox in a real browser', () => {
  let app: TestApp;
  let appClosed = false;
  let browser: Browser;
  let context: BrowserContext;
  let user: User;
  const pageErrors: string[] = [];
  /** What beforeAll stores, oldest first. */
  const stored: string[] = [];

  // Through the instance the page is on: without Redis, an instance reaches only its own sockets.
  const send = async (mensaje: string, fields: Kind = {}, url = app.url): Promise<void> => {
    await request(url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(user)))
      .send({ usuarios: [user.id], mensaje, ...fields })
      .expect(201);
  };

  const open = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(app.url);
    return page;
  };

  beforeAll(async () => {
    // No instance leads while the first notifications are stored, as when a leader takes over
    // with a backlog: the one that then leads counts them late, and the page's catch-up replays
    // them, older ones than its first page included (the inbox must not show those).
    const releaseLead = await holdDeliveryLead();
    try {
      // The production app below shares this database: one instance pushes for both, via Redis.
      app = await startApp(
        { REDIS_URL: process.env.TEST_REDIS_URL || undefined },
        { lead: 'later' },
      );
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
      context = await browser.newContext({ viewport: { width: 1100, height: 760 } });
      // A staff demo user of its own (each run has a fresh database), so the picker lists it and
      // its send form shows.
      user = await createUser(app, { staff: true, username: 'demo-encargada' });
      for (let index = 1; index <= 12; index++) {
        const stock = index % 3 === 0;
        stored.push(
          stock
            ? `Stock bajo: quedan ${index} kg de tomate`
            : `Pedido #${1000 + index} listo para servir en la mesa ${index}`,
        );
        await send(
          stored[stored.length - 1],
          stock ? { tipo: 'stock' } : { tipo: 'pedido', url: `/pedidos/${1000 + index}` },
        );
      }
    } finally {
      await releaseLead();
    }
    await outboxDrained(app.dataSource);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    if (!appClosed) await app?.close();
  });

  it('lists, delivers live, catches up, marks read, and keeps a second tab in step', async () => {
    const first = await open();
    await first.selectOption('#pick-user', { label: `${user.username} (staff)` });
    await first.click('#pick-form button[type=submit]');
    await first.locator('#status[data-state=live]').waitFor({ timeout: WAIT_MS });

    // The first page, then the rest through the cursor. The catch-up at connect replays the
    // eleven counted late: those listed are shown once, the two older ones not before load more.
    await first.waitForFunction(
      () => (globalThis as unknown as DemoWindow).demoInbox.catchUps > 0,
      undefined,
      { timeout: WAIT_MS },
    );
    expect(await items(first).count()).toBe(10);
    expect(await badge(first)).toBe(12);
    await first.click('#load-more');
    await eventually('after load more', () => items(first).count(), 12);
    expect(await itemTexts(first)).toEqual([...stored].reverse());
    expect(await first.isHidden('#load-more')).toBe(true);

    // Live arrival through the HTTP API, newest on top, badge counting up.
    for (const [mensaje, kind] of [
      ['Nuevo pedido #2048 para la mesa 7: paella mixta', { tipo: 'pedido', url: '/pedidos/2048' }],
      ['Gasto de 245,80 € pendiente de aprobación: mantelería', { tipo: 'gasto' }],
      ['Reserva para 6 personas a las 21:30 confirmada', { tipo: 'reserva' }],
    ] as const) {
      await send(mensaje, kind);
      await eventually('live arrival', async () => (await itemTexts(first))[0], mensaje);
    }
    await eventually('badge after live arrivals', () => badge(first), 15);

    // The bell opens the inbox, however often it is pressed: it never hides it.
    for (let press = 0; press < 2; press++) {
      await first.click('#bell');
      expect(await first.isVisible('#inbox')).toBe(true);
      expect(
        await first
          .locator('#inbox')
          .evaluate((inbox) => inbox === inbox.ownerDocument.activeElement),
      ).toBe(true);
    }

    // The staff form sends too, and the notification comes back live.
    await first.fill('#send-text', 'Mesa 12 pide la cuenta');
    await first.click('#send-form button[type=submit]');
    await eventually(
      'form send',
      async () => (await itemTexts(first))[0],
      'Mesa 12 pide la cuenta',
    );
    await eventually('badge after form send', () => badge(first), 16);

    // Mark one read.
    await first.locator('#items li.unread .mark-one').first().click();
    await eventually('badge after marking one', () => badge(first), 15);

    // A second tab remembers the user and shows the same count.
    const second = await open();
    await second.locator('#status[data-state=live]').waitFor({ timeout: WAIT_MS });
    await eventually('second tab badge', () => badge(second), 15);

    // Offline for a moment: what arrives meanwhile is replayed on reconnect (auth.since).
    await first.evaluate(() => (globalThis as unknown as DemoWindow).demoInbox.socket.disconnect());
    await first.locator('#status[data-state=reconnecting]').waitFor({ timeout: WAIT_MS });
    const missed = 'Sin stock de gambas: avisa a sala';
    await send(missed, { tipo: 'stock' });
    await eventually('second tab live', async () => (await itemTexts(second))[0], missed);
    expect(await itemTexts(first)).not.toContain(missed);
    await first.evaluate(() => (globalThis as unknown as DemoWindow).demoInbox.socket.connect());
    await eventually('catch-up', async () => (await itemTexts(first))[0], missed);
    await eventually('badge after catch-up', () => badge(first), 16);
    await eventually('second tab badge after catch-up', () => badge(second), 16);
    expect(await items(first).count()).toBe(17);

    mkdirSync(ARTIFACTS, { recursive: true });
    await first.evaluate(() => (globalThis as unknown as DemoWindow).scrollTo(0, 0));
    await first.screenshot({ path: join(ARTIFACTS, 'inbox-live.png') });

    // Mark all read in one tab; the other follows through its socket.
    await first.click('#mark-all');
    await eventually('badge after mark all', () => badge(first), 0);
    await eventually('second tab badge after mark all', () => badge(second), 0);
    expect(await second.locator('#items li.unread').count()).toBe(0);
    await first.screenshot({ path: join(ARTIFACTS, 'inbox-read.png') });

    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('labels kinds, follows links, marks unread, deletes, clears read and mutes; another tab follows', async () => {
    // Two more tabs of the remembered user; everything is read after the first test.
    const tab = await open();
    const other = await open();
    for (const page of [tab, other]) {
      await page.locator('#status[data-state=live]').waitFor({ timeout: WAIT_MS });
      await eventually('all read at the start', () => badge(page), 0);
    }
    const both = async (
      what: string,
      probe: (page: Page) => Promise<unknown>,
      expected: unknown,
    ) => {
      await eventually(`${what} (this tab)`, () => probe(tab), expected);
      await eventually(`${what} (the other tab)`, () => probe(other), expected);
    };
    const top = async (page: Page) => (await itemTexts(page))[0];
    const listed = async () =>
      (
        await request(app.url)
          .get('/notifications/api/list/?limit=100')
          .set(bearer(signToken(user)))
      ).body as { notifications: Array<{ mensaje: string; leida: boolean }>; unread_count: number };

    const reserva = 'Reserva para 4 personas a las 14:00 confirmada';
    const factura = 'La factura de Makro vence mañana';
    const pedido = 'Nuevo pedido #2049 para la mesa 3: pulpo a la gallega';
    await send(reserva, { tipo: 'reserva' });
    await send(factura, { tipo: 'gasto', url: '/gastos/77' });
    await send(pedido, { tipo: 'pedido', url: '/pedidos/2049' });
    await both('arrivals', top, pedido);
    await both('badge after arrivals', badge, 3);

    // A label per kind: the known ones named in their colour, any other as itself, neutral.
    expect(await kindOf(tab, pedido)).toEqual({ text: 'Pedido', className: 'tipo tipo-pedido' });
    expect(await kindOf(tab, factura)).toEqual({ text: 'Gasto', className: 'tipo tipo-gasto' });
    expect(await kindOf(tab, 'Sin stock de gambas')).toEqual({
      text: 'Stock',
      className: 'tipo tipo-stock',
    });
    expect(await kindOf(tab, 'Mesa 12 pide la cuenta')).toEqual({
      text: 'General',
      className: 'tipo tipo-general',
    });
    expect(await kindOf(tab, reserva)).toEqual({ text: 'reserva', className: 'tipo tipo-other' });
    // Only one with a url is a link.
    expect(await item(tab, pedido).getByRole('link', { name: pedido }).getAttribute('href')).toBe(
      `${app.url}/pedidos/2049`,
    );
    expect(await item(tab, reserva).getByRole('link').count()).toBe(0);

    // Mute a kind: the other tab shows it muted too; one of that kind is stored read and pushed
    // to neither tab (the one sent after it is, and comes after it when pushed: none skipped).
    await tab.getByRole('checkbox', { name: 'Stock' }).check();
    await both('stock muted', (page) => page.isChecked('#mute-stock'), true);
    await eventually('saved', () => tab.isEnabled('#mute-stock'), true);
    const preferences = await request(app.url)
      .get('/notifications/api/preferences/')
      .set(bearer(signToken(user)))
      .expect(200);
    expect(preferences.body).toEqual({ silenciados: ['stock'] });
    const muted = 'Stock bajo: quedan 2 kg de harina';
    const afterMuted = 'Pedido #2050 listo para servir en la mesa 5';
    await send(muted, { tipo: 'stock' });
    await send(afterMuted, { tipo: 'pedido' });
    await both('arrival after the muted one', top, afterMuted);
    expect(await itemTexts(tab)).not.toContain(muted);
    expect(await itemTexts(other)).not.toContain(muted);
    await both('badge without the muted one', badge, 4);
    expect((await listed()).notifications.find((n) => n.mensaje === muted)?.leida).toBe(true);

    // Mark one unread.
    const cuenta = 'Mesa 12 pide la cuenta';
    await item(tab, cuenta).getByRole('button', { name: 'Marcar no leída' }).click();
    await both('badge after mark unread', badge, 5);
    await both('shown unread', (page) => item(page, cuenta).getAttribute('class'), 'unread');

    mkdirSync(ARTIFACTS, { recursive: true });
    await tab.evaluate(() => (globalThis as unknown as DemoWindow).scrollTo(0, 0));
    await tab.screenshot({ path: join(ARTIFACTS, 'inbox.png') });

    // Delete one (unread, so the count drops too).
    await item(tab, reserva).getByRole('button', { name: 'Eliminar' }).click();
    await both('deleted', (page) => item(page, reserva).count(), 0);
    await both('badge after delete', badge, 4);

    // Clear read: only the unread ones are left, everywhere.
    await tab.getByRole('button', { name: 'Borrar leídas' }).click();
    const unread = [afterMuted, pedido, factura, cuenta];
    await both(
      'cleared read',
      async (page) => (await itemTexts(page)).join(' | '),
      unread.join(' | '),
    );
    await both('badge after clear read', badge, 4);
    expect((await listed()).notifications.map((n) => n.mensaje)).toEqual(unread);

    // Unmute in the other tab: this one follows, and that kind arrives live again.
    await other.getByRole('checkbox', { name: 'Stock' }).uncheck();
    await both('stock unmuted', (page) => page.isChecked('#mute-stock'), false);
    const unmuted = 'Stock bajo: quedan 3 l de aceite de oliva';
    await send(unmuted, { tipo: 'stock' });
    await both('unmuted arrival', top, unmuted);
    await both('badge after unmuted arrival', badge, 5);

    // Follow a link: marked read first, then the page goes where it leads (the host app's
    // path, which this service does not serve); the first tab shows it read.
    await item(other, pedido).getByRole('link', { name: pedido }).click();
    await other.waitForURL(`${app.url}/pedidos/2049`, { timeout: WAIT_MS });
    await eventually('followed one read', () => item(tab, pedido).getAttribute('class'), 'read');
    await eventually('badge after following', () => badge(tab), 4);
    expect((await listed()).notifications.find((n) => n.mensaje === pedido)?.leida).toBe(true);

    expect(pageErrors).toEqual([]);
    await tab.close();
    await other.close();
  }, 90_000);

  it('lists again when a catch-up could not replay everything missed', async () => {
    const page = await open();
    await page.locator('#status[data-state=live]').waitFor({ timeout: WAIT_MS });
    await page.evaluate(() => (globalThis as unknown as DemoWindow).demoInbox.socket.disconnect());
    await page.locator('#status[data-state=reconnecting]').waitFor({ timeout: WAIT_MS });
    // More than a catch-up replays (1,000): the server says so, and the inbox lists afresh.
    const newest = 'La última de 1.005 mientras no estabas';
    const ids = await insertNotifications(app, user, [
      ...Array.from({ length: 1004 }, (_, index) => ({ mensaje: `Aviso ${index + 1}` })),
      { mensaje: newest },
    ]);
    // Catch-up replays only what the delivery leader has read (its next poll).
    await leaderHasRead(app.dataSource, ids.at(-1)!);
    await page.evaluate(() => (globalThis as unknown as DemoWindow).demoInbox.socket.connect());
    await eventually('listed again, newest first', async () => (await itemTexts(page))[0], newest);
    await eventually('only the first page shown', () => items(page).count(), 10);
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 90_000);

  it('asks for a token in production with DEMO_ENABLED, and works with a pasted one', async () => {
    // Without Redis only the instance that leads delivery reaches its own sockets: the
    // development app steps aside so that the production one leads (its last test is done).
    if (!process.env.TEST_REDIS_URL) {
      await app.close();
      appClosed = true;
    }
    const production = await startApp(
      {
        REDIS_URL: process.env.TEST_REDIS_URL || undefined,
        NODE_ENV: 'production',
        DEMO_ENABLED: 'true',
        JWT_SECRET: process.env.JWT_SECRET,
        DATABASE_URL: process.env.DATABASE_URL,
        LOG_LEVEL: 'silent',
      },
      { lead: process.env.TEST_REDIS_URL ? 'any' : 'this' },
    );
    try {
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(production.url);
      await page.locator('#token-form').waitFor({ timeout: WAIT_MS });
      expect(await page.isHidden('#pick-form')).toBe(true);
      await page.fill('#token-input', signToken(user));
      await page.click('#token-form button[type=submit]');
      await page.locator('#status[data-state=live]').waitFor({ timeout: WAIT_MS });
      await eventually('pasted-token inbox', () => items(page).count(), 10);
      await send('Pedido #77 listo para recoger', {}, production.url);
      await eventually(
        'live arrival',
        async () => (await itemTexts(page))[0],
        'Pedido #77 listo para recoger',
      );
      expect(pageErrors).toEqual([]);
    } finally {
      await production.close();
    }
  }, 60_000);
});

/** What a notification is about and where it leads, as `send` takes them. */
interface Kind {
  tipo?: string;
  url?: string;
}

interface DemoWindow {
  demoInbox: { socket: { connect(): void; disconnect(): void }; catchUps: number };
  scrollTo(x: number, y: number): void;
}
