import { originAllowed } from './origin-policy';

describe('originAllowed', () => {
  const listed = ['https://app.example.com'];

  it('lets non-browser clients (no Origin) through', () => {
    expect(originAllowed(undefined, 'api.example.com', listed)).toBe(true);
  });

  it('lets listed origins through, exactly', () => {
    expect(originAllowed('https://app.example.com', 'api.example.com', listed)).toBe(true);
    expect(originAllowed('http://app.example.com', 'api.example.com', listed)).toBe(false);
    expect(originAllowed('https://app.example.com.evil.io', 'api.example.com', listed)).toBe(false);
  });

  it("lets the service's own pages through, even with nothing listed", () => {
    expect(originAllowed('http://localhost:8000', 'localhost:8000', [])).toBe(true);
    expect(originAllowed('http://localhost:8001', 'localhost:8000', [])).toBe(false);
  });

  it('refuses other pages, opaque origins and garbage', () => {
    expect(originAllowed('https://evil.example.com', 'api.example.com', listed)).toBe(false);
    expect(originAllowed('null', 'api.example.com', listed)).toBe(false);
    expect(originAllowed('not a url', undefined, listed)).toBe(false);
  });
});
