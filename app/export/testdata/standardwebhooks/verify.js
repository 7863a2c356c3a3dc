// Verifies one webhook delivery with the Standard Webhooks reference
// library. Input (stdin, JSON): {"secret", "raw", "headers", "body"}; body is
// the raw request body as a string. Exit 0 and print the payload's event when
// the signature verifies; exit 1 with the library's error otherwise.
const { Webhook } = require("standardwebhooks");

let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const { secret, raw, headers, body } = JSON.parse(input);
  try {
    const wh = raw ? new Webhook(Buffer.from(secret).toString("base64")) : new Webhook(secret);
    const payload = wh.verify(body, headers);
    process.stdout.write(payload.event + "\n");
  } catch (e) {
    process.stderr.write(String(e && e.message ? e.message : e) + "\n");
    process.exit(1);
  }
});
