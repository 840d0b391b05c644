import { SealedPayload } from './sealed-payload';

describe('SealedPayload', () => {
  const secret = 'q7Vd2mKx9LpR4tWz8NcY1bHf6GjS3uEa0iOv';
  const value = { to: 'ada@example.com', link: 'https://app.example.com/reset-password?token=abc' };

  it('opens what it sealed, and the sealed text shows nothing of it', () => {
    const sealing = new SealedPayload(secret, 'job payloads');
    const sealed = sealing.seal(value);
    expect(sealed).not.toContain('ada');
    expect(Buffer.from(sealed, 'base64').toString('latin1')).not.toContain('example.com');
    expect(sealing.open(sealed)).toEqual(value);
    // a fresh IV each time
    expect(sealing.seal(value)).not.toBe(sealed);
  });

  it('refuses an altered payload, and one sealed with another secret or purpose', () => {
    const sealing = new SealedPayload(secret, 'job payloads');
    const bytes = Buffer.from(sealing.seal(value), 'base64');
    bytes[bytes.length - 1] ^= 1;
    expect(() => sealing.open(bytes.toString('base64'))).toThrow();
    expect(() => new SealedPayload(`${secret}x`, 'job payloads').open(sealing.seal(value))).toThrow();
    expect(() => new SealedPayload(secret, 'other').open(sealing.seal(value))).toThrow();
  });
});
