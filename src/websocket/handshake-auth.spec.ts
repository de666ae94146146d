import { ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import type { Socket } from 'socket.io';
import type { TokenVerifier } from '../auth/token-verifier';
import { sinceFrom } from '../notifications/handshake-since';
import { authenticate, joinUserRoom } from './handshake-auth';

const USER = { id: 4, username: 'ana', isStaff: false, expiresAt: Date.now() + 60_000 };

function fakeSocket(auth: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return {
    handshake: { auth, headers },
    data: {} as Record<string, unknown>,
    join: jest.fn(),
    // Its connection, whose writes the room join holds (see socket-writes.ts).
    client: Object.create({ writeToEngine: jest.fn() }) as object,
  };
}

function run(step: ReturnType<typeof authenticate>, socket: ReturnType<typeof fakeSocket>) {
  return new Promise<Error | undefined>((resolve) =>
    step(socket as unknown as Socket, (error?: Error) => resolve(error)),
  );
}

describe('handshake', () => {
  const verifier = (outcome: () => Promise<unknown>) =>
    ({ verify: jest.fn(outcome) }) as unknown as TokenVerifier;

  it('keeps the verified user on the socket, from auth.token or the Authorization header', async () => {
    const check = verifier(() => Promise.resolve(USER));
    const byAuth = fakeSocket({ token: 't1' });
    expect(await run(authenticate(check), byAuth)).toBeUndefined();
    expect(byAuth.data.user).toBe(USER);
    await run(authenticate(check), fakeSocket({}, { authorization: 'Bearer t2' }));
    expect((check.verify as jest.Mock).mock.calls).toEqual([['t1'], ['t2']]);
  });

  it('refuses a bad token as unauthorized, an unreachable database as retryable', async () => {
    const bad = verifier(() => Promise.reject(new UnauthorizedException()));
    expect((await run(authenticate(bad), fakeSocket()))?.message).toBe('unauthorized');
    const down = verifier(() => Promise.reject(new ServiceUnavailableException()));
    expect((await run(authenticate(down), fakeSocket()))?.message).toBe(
      'service unavailable, try again shortly',
    );
  });

  it("joins the authenticated socket to its user's room, and refuses one without a user", async () => {
    const socket = fakeSocket();
    socket.data.user = USER;
    expect(await run(joinUserRoom, socket)).toBeUndefined();
    expect(socket.join).toHaveBeenCalledWith('user_4');
    expect((await run(joinUserRoom, fakeSocket()))?.message).toBe('unauthorized');
  });

  it('takes since as the plain digits of a notification id, or not at all', () => {
    expect(sinceFrom({})).toBeUndefined();
    expect(sinceFrom({ since: 12 })).toBe(12);
    expect(sinceFrom({ since: '12' })).toBe(12);
    for (const since of ['', '-1', '1e3', '0x10', ' 5', '1'.repeat(16)]) {
      expect(sinceFrom({ since })).toBe('invalid');
    }
  });
});
