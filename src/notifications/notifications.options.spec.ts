import { NOTIFICATIONS_DEFAULTS, resolveNotificationsOptions } from './notifications.options';

describe('resolveNotificationsOptions', () => {
  it('fills in every default, leaving Redis off', () => {
    expect(resolveNotificationsOptions({ jwtSecret: 'k' })).toEqual({
      ...NOTIFICATIONS_DEFAULTS,
      jwtSecret: 'k',
      redisUrl: undefined,
    });
    expect(NOTIFICATIONS_DEFAULTS.httpRateLimitScope).toBe('notifications');
  });

  it('keeps what the host sets, and takes an explicit undefined as unset', () => {
    const resolved = resolveNotificationsOptions({
      jwtSecret: 'k',
      retentionDays: 0,
      maxSocketsPerUser: undefined,
      corsOrigins: ['https://app.example.com'],
    });
    expect(resolved).toMatchObject({
      retentionDays: 0,
      maxSocketsPerUser: NOTIFICATIONS_DEFAULTS.maxSocketsPerUser,
      corsOrigins: ['https://app.example.com'],
    });
  });

  it('refuses a missing key and numbers no setting allows', () => {
    expect(() => resolveNotificationsOptions({ jwtSecret: '' })).toThrow(/jwtSecret is required/);
    expect(() => resolveNotificationsOptions({ jwtSecret: 'k', retentionDays: -1 })).toThrow(
      /retentionDays/,
    );
    expect(() => resolveNotificationsOptions({ jwtSecret: 'k', maxSocketsPerUser: 0 })).toThrow(
      /maxSocketsPerUser/,
    );
    expect(() =>
      resolveNotificationsOptions({ jwtSecret: 'k', httpRateLimitPerMinute: 1.5 }),
    ).toThrow(/httpRateLimitPerMinute/);
  });
});
