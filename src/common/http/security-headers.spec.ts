import {
  API_SECURITY_HEADERS,
  DOCS_SECURITY_HEADERS,
  securityHeaders,
} from './security-headers.js';

describe('securityHeaders', () => {
  it("records helmet's headers once, as a plain map: an API answer gets only those an API needs", () => {
    expect(API_SECURITY_HEADERS).toEqual({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'strict-transport-security': expect.stringContaining('max-age='),
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    });
    // A page still gets helmet's document headers.
    expect(DOCS_SECURITY_HEADERS).toMatchObject({
      'cross-origin-opener-policy': 'same-origin',
      'x-frame-options': 'SAMEORIGIN',
    });
  });

  it('lets the docs UI run its inline scripts and styles, and nothing else', () => {
    const csp = DOCS_SECURITY_HEADERS['content-security-policy'];
    expect(csp).toContain("script-src 'self' 'unsafe-inline'");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(API_SECURITY_HEADERS['content-security-policy']).not.toContain('unsafe-inline');
  });

  it('leaves out what the options turn off', () => {
    const headers = securityHeaders({ contentSecurityPolicy: false, xFrameOptions: false });
    expect(headers['content-security-policy']).toBeUndefined();
    expect(headers['x-frame-options']).toBeUndefined();
    expect(headers['x-content-type-options']).toBe('nosniff');
  });
});
