// The bare model route: the control for LitStatus's cache misses. It does what any route that
// calls the model must (read the body, the completion and the moderation call side by side
// over kept-alive connections, one JSON answer) and nothing else: no wrapper, no stores, no
// cache, no logging. Its latency over the fake's is what Next, the two calls and this machine
// cost; the app's miss minus it is what LitStatus adds.
import http from "node:http";

export const dynamic = "force-dynamic";

const agent = new http.Agent({ keepAlive: true });

function call(path, payload) {
  const base = process.env.OPENAI_BASE_URL;
  if (!base) return Promise.reject(new Error("OPENAI_BASE_URL is not set"));
  const body = JSON.stringify(payload);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization: "Bearer bare" } },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          if (res.statusCode !== 200) return reject(new Error(`${path} answered ${res.statusCode}`));
          resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export async function POST(request) {
  const { text } = await request.json();
  const [completion, moderation] = await Promise.all([
    call("/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: String(text) }] }),
    call("/moderations", { model: "omni-moderation-latest", input: String(text) }),
  ]);
  return Response.json({ caption: completion.choices[0].message.content, flagged: moderation.results[0].flagged });
}
