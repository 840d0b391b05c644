/** One email, rendered: a plain-text part and an HTML part with the same content. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** What a feature says; `renderMail` turns it into a message. */
export interface MailContent {
  to: string;
  subject: string;
  /** Paragraphs of plain text, before the link. */
  lines: string[];
  /** The one thing to do, as a link. */
  action: { label: string; url: string };
  /** Paragraphs after the link (why you got this mail, when the link expires). */
  footer: string[];
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The one layout of Tasklane's mails: a few paragraphs, a link, a footer; names escaped in HTML. */
export function renderMail(content: MailContent): MailMessage {
  const { to, subject, lines, action, footer } = content;
  const text = [...lines, `${action.label}: ${action.url}`, ...footer].join('\n\n') + '\n';
  const paragraph = (line: string): string => `<p>${escapeHtml(line)}</p>`;
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    ...lines.map(paragraph),
    `<p><a href="${escapeHtml(action.url)}">${escapeHtml(action.label)}</a></p>`,
    ...footer.map((line) => `<p style="color: #666">${escapeHtml(line)}</p>`),
    '</body></html>',
  ].join('\n');
  return { to, subject, text, html };
}
