import { redactUrl, requestIdFor } from './request-logging';

describe('redactUrl', () => {
  it('hides the values of token-like query parameters', () => {
    expect(redactUrl('/ws/?token=abc.def.ghi&EIO=4')).toBe('/ws/?token=[redacted]&EIO=4');
    expect(redactUrl('/x?Access_Token=1&jwt=2&limit=3')).toBe(
      '/x?Access_Token=[redacted]&jwt=[redacted]&limit=3',
    );
    expect(redactUrl('/x?%74oken=1')).toBe('/x?%74oken=[redacted]');
  });

  it.each([
    ['/x?token[]=s3cr3t', '/x?token[]=[redacted]'],
    ['/x?token%5B%5D=s3cr3t', '/x?token%5B%5D=[redacted]'],
    ['/x?refresh_token=s3cr3t&limit=1', '/x?refresh_token=[redacted]&limit=1'],
    ['/x?bearer=s3cr3t', '/x?bearer=[redacted]'],
    ['/x?session=s3cr3t', '/x?session=[redacted]'],
    ['/x?a=1;token=s3cr3t', '/x?a=1;token=[redacted]'],
    ['/x?user[password]=s3cr3t', '/x?user[password]=[redacted]'],
    ['/x?X-Api-Key=s3cr3t', '/x?X-Api-Key=[redacted]'],
    ['/x?sig=s3cr3t&key=s3cr3t', '/x?sig=[redacted]&key=[redacted]'],
    ['/x?Authorization=Bearer%20s3cr3t', '/x?Authorization=[redacted]'],
  ])('hides token-like parameters however they are spelled: %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it('hides anything shaped like a JWT, named or not, in the query or the path', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    expect(redactUrl(`/x?${jwt}`)).toBe('/x?[redacted]');
    expect(redactUrl(`/x?q=${jwt}&limit=2`)).toBe('/x?q=[redacted]&limit=2');
    expect(redactUrl(`/t/${jwt}/view`)).toBe('/t/[redacted]/view');
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
