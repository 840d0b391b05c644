import { walPosition } from './read-replicas';

describe('walPosition', () => {
  it('orders WAL positions as PostgreSQL does: the high half first, both hexadecimal', () => {
    expect(walPosition('0/0')).toBe(0n);
    expect(walPosition('0/16B3748')).toBe(0x16b3748n);
    expect(walPosition('1/0')).toBe(1n << 32n);
    // Compared as text, '0/FFFFFFFF' > '1/0'; as positions it is the other way round.
    expect(walPosition('0/FFFFFFFF') < walPosition('1/0')).toBe(true);
    expect(walPosition('A/B374D848') > walPosition('9/FFFFFFFF')).toBe(true);
  });
});
