import { renderMail } from './mail-message';

describe('renderMail', () => {
  const message = renderMail({
    to: 'ada@example.com',
    subject: 'Join <Acme & Co>',
    lines: ['Eve <script>alert(1)</script> invited you to "Acme & Co".'],
    action: { label: 'Accept', url: 'https://app.example.com/invitations/accept?token=a&b="c"' },
    footer: ['Ignore this if unexpected.'],
  });

  it('has a plain-text part with the paragraphs and the link as is', () => {
    expect(message.text).toBe(
      'Eve <script>alert(1)</script> invited you to "Acme & Co".\n\n' +
        'Accept: https://app.example.com/invitations/accept?token=a&b="c"\n\n' +
        'Ignore this if unexpected.\n',
    );
  });

  it('escapes names and the link in the HTML part', () => {
    expect(message.html).toContain(
      '<p>Eve &lt;script&gt;alert(1)&lt;/script&gt; invited you to &quot;Acme &amp; Co&quot;.</p>',
    );
    expect(message.html).toContain(
      '<a href="https://app.example.com/invitations/accept?token=a&amp;b=&quot;c&quot;">Accept</a>',
    );
    expect(message.html).not.toContain('<script>');
    expect(message).toMatchObject({ to: 'ada@example.com', subject: 'Join <Acme & Co>' });
  });
});
