// Node fetch client: GET each URL of argv[2..] in order over one keep-alive pool; prints statuses.
const out = [];
for (const u of process.argv.slice(2)) {
  const r = await fetch(u);
  await r.arrayBuffer();
  out.push(r.status);
}
console.log(out.join(' '));
