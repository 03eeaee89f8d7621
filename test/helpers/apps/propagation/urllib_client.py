"""Python urllib client for propagation-headers.test.ts: GET each URL of the arguments; prints the statuses."""
import sys
import urllib.request

print(" ".join(str(urllib.request.urlopen(u).status) for u in sys.argv[1:]), flush=True)
