import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import request from 'supertest';
import { User } from '../src/users/user.entity';
import { startApp, TestApp } from './support/app';
import { createUser, insertNotifications } from './support/fixtures';
import { bearer, signToken } from './support/tokens';
import { holdDeliveryLead, outboxDrained } from './support/delivery';

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
  const send = async (mensaje: string, url = app.url): Promise<void> => {
    await request(url)
      .post('/notifications/api/send/')
      .set(bearer(signToken(user)))
      .send({ usuarios: [user.id], mensaje })
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
        stored.push(
          index % 3 === 0
            ? `Stock bajo: quedan ${index} kg de tomate`
            : `Pedido #${1000 + index} listo para servir en la mesa ${index}`,
        );
        await send(stored[stored.length - 1]);
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
    for (const mensaje of [
      'Nuevo pedido #2048 para la mesa 7: paella mixta',
      'Gasto de 245,80 € pendiente de aprobación: mantelería',
      'Reserva para 6 personas a las 21:30 confirmada',
    ]) {
      await send(mensaje);
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
    await send(missed);
    await eventually('second tab live', async () => (await itemTexts(second))[0], missed);
    expect(await itemTexts(first)).not.toContain(missed);
    await first.evaluate(() => (globalThis as unknown as DemoWindow).demoInbox.socket.connect());
    await eventually('catch-up', async () => (await itemTexts(first))[0], missed);
    await eventually('badge after catch-up', () => badge(first), 16);
    await eventually('second tab badge after catch-up', () => badge(second), 16);
    expect(await items(first).count()).toBe(17);

    mkdirSync(ARTIFACTS, { recursive: true });
    await first.evaluate(() => (globalThis as unknown as DemoWindow).scrollTo(0, 0));
    await first.screenshot({ path: join(ARTIFACTS, 'inbox.png') });

    // Mark all read in one tab; the other follows through its socket.
    await first.click('#mark-all');
    await eventually('badge after mark all', () => badge(first), 0);
    await eventually('second tab badge after mark all', () => badge(second), 0);
    expect(await second.locator('#items li.unread').count()).toBe(0);
    await first.screenshot({ path: join(ARTIFACTS, 'inbox-read.png') });

    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('lists again when a catch-up could not replay everything missed', async () => {
    const page = await open();
    await page.locator('#status[data-state=live]').waitFor({ timeout: WAIT_MS });
    await page.evaluate(() => (globalThis as unknown as DemoWindow).demoInbox.socket.disconnect());
    await page.locator('#status[data-state=reconnecting]').waitFor({ timeout: WAIT_MS });
    // More than a catch-up replays (1,000): the server says so, and the inbox lists afresh.
    const newest = 'La última de 1.005 mientras no estabas';
    await insertNotifications(app, user, [
      ...Array.from({ length: 1004 }, (_, index) => ({ mensaje: `Aviso ${index + 1}` })),
      { mensaje: newest },
    ]);
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
      await send('Pedido #77 listo para recoger', production.url);
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

interface DemoWindow {
  demoInbox: { socket: { connect(): void; disconnect(): void }; catchUps: number };
  scrollTo(x: number, y: number): void;
}
