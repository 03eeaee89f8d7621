"""An asyncio HTTP hop (aiohttp) for test/integration/correlation-asyncio.test.ts: one thread
serves every request.

usage: asyncio_hop.py PORT NEXT_URL_PREFIX
GET /x: awaits a sleep of 0-30 ms, then GET NEXT_URL_PREFIX + /x with aiohttp's client (pooled
keep-alive connections), and answers with what it got. Prints "listening" once bound.
"""
import asyncio
import random
import sys

from aiohttp import ClientSession, web

PORT = int(sys.argv[1])
NEXT = sys.argv[2]


async def handle(request):
    await asyncio.sleep(random.random() * 0.03)
    async with request.app["client"].get(NEXT + request.path) as r:
        body = await r.read()
    return web.Response(body=body)


async def start_client(app):
    app["client"] = ClientSession()
    yield
    await app["client"].close()


app = web.Application()
app.router.add_get("/{tail:.*}", handle)
app.cleanup_ctx.append(start_client)
web.run_app(app, host="127.0.0.1", port=PORT, print=lambda *_: print("listening", flush=True), access_log=None)
