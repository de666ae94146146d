import { redactUrl, requestIdFor } from './request-logging';

describe('redactUrl', () => {
  it('hides the values of token-like query parameters', () => {
    expect(redactUrl('/ws/?token=abc.def.ghi&EIO=4')).toBe('/ws/?token=[redacted]&EIO=4');
    expect(redactUrl('/x?Access_Token=1&jwt=2&limit=3')).toBe(
      '/x?Access_Token=[redacted]&jwt=[redacted]&limit=3',
    );
    expect(redactUrl('/x?%74oken=1')).toBe('/x?%74oken=[redacted]');
  });

  it('leaves other URLs alone', () => {
    expect(redactUrl('/notifications/api/list/?limit=20&unread=true')).toBe(
      '/notifications/api/list/?limit=20&unread=true',
    );
    expect(redactUrl('/health')).toBe('/health');
    expect(redactUrl('/x?%E0%A4%A=1')).toBe('/x?%E0%A4%A=1');
  });
});

describe('requestIdFor', () => {
  it('keeps a plain token from the caller', () => {
    expect(requestIdFor('b7c1-42.api:edge@lb_1')).toBe('b7c1-42.api:edge@lb_1');
    expect(requestIdFor(['first', 'second'])).toBe('first');
  });

  it.each([[undefined], [''], ['has space'], ['x'.repeat(129)], ['new\nline']])(
    'makes up a UUID instead of %j',
    (header) => {
      expect(requestIdFor(header)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    },
  );
});
