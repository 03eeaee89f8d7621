-- wrk: an OpenAI chat completion request whose answer (test/helpers/apps/genai-server.mjs) is 20 KB of JSON
wrk.method = "POST"
wrk.body = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"in=12 out=34 size=20000"}]}'
wrk.headers["Content-Type"] = "application/json"
