import { eventBudget } from './socket-limits';

describe('eventBudget', () => {
  function harness(perMinute: number) {
    let now = 0;
    const budget = eventBudget(perMinute, () => now);
    const send = (withAck = true) => {
      const replies: unknown[] = [];
      let passed = false;
      const packet: [string, ...unknown[]] = withAck
        ? ['mark_read', { ids: [] }, (reply: unknown) => replies.push(reply)]
        : ['mark_read', { ids: [] }];
      budget(packet, () => (passed = true));
      return { passed, replies };
    };
    return { send, advance: (ms: number) => (now += ms) };
  }

  it('lets the first events of a minute through and acknowledges the rest as rate limited', () => {
    const { send } = harness(2);
    expect(send()).toEqual({ passed: true, replies: [] });
    expect(send()).toEqual({ passed: true, replies: [] });
    expect(send()).toEqual({ passed: false, replies: [{ error: 'rate limited' }] });
  });

  it('drops an event without an acknowledgement silently', () => {
    const { send } = harness(1);
    send();
    expect(send(false)).toEqual({ passed: false, replies: [] });
  });

  it('starts afresh with each minute', () => {
    const { send, advance } = harness(1);
    send();
    expect(send().passed).toBe(false);
    advance(60_000);
    expect(send().passed).toBe(true);
  });
});
