"""Checkout load through the HTTP API: CLIENTS registered shoppers, each
adding one unit of a bench SKU to the cart and placing the order, over and
over for SECONDS. Prints one JSON line: orders placed, statuses, the SKU's
stock before and after (the audit: before - after = units ordered), p50/p99
of add + place in ms.

    python3 e2e/bench/checkout.py GATEWAY-URL CLIENTS SECONDS
"""
import http.client, json, sys, threading, time, urllib.parse

base, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
host = urllib.parse.urlparse(base).netloc
SKU = "BENCH-1"


def call(conn, method, path, body=None, headers=None):
    h = {"content-type": "application/json", **(headers or {})}
    conn.request(method, path, json.dumps(body) if body is not None else None, h)
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)


def stock(conn):
    _, p = call(conn, "GET", f"/api/v1/products?q={SKU}")
    return next(v["stock"] for item in p["items"] for v in item["variants"] if v["sku"] == SKU)


c = http.client.HTTPConnection(host)
_, admin = call(c, "POST", "/api/v1/session", {"username": "admin", "password": "admin123"})
auth = {"authorization": "Bearer " + admin["token"]}
# Made once per shop (a shop measured again keeps it).
call(c, "POST", "/api/v1/admin/products", {"name": "Bench Tee", "image": "builtin:tshirt", "variants": [
    {"sku": SKU, "size": "M", "color": "Black", "price_cents": 1000, "stock": 1000000}]}, auth)
tokens = []
for i in range(clients):
    call(c, "POST", "/api/v1/users", {"username": f"bench-{i}", "password": "bench password",
                                      "email": f"bench-{i}@example.com", "phone": "0123456789"})
    _, s = call(c, "POST", "/api/v1/session", {"username": f"bench-{i}", "password": "bench password"})
    tokens.append(s["token"])
    # Orders go to the account's default address.
    call(c, "POST", "/api/v1/addresses", {"name": f"Bench {i}", "line1": "Via Roma 1", "postcode": "50100",
                                          "city": "Florence", "country": "Italy"}, {"authorization": "Bearer " + s["token"]})
    # A cart left over from an earlier run would change what is ordered.
    call(c, "DELETE", "/api/v1/cart", None, {"authorization": "Bearer " + s["token"]})
before = stock(c)
results, latencies, lock = {}, [], threading.Lock()
deadline = time.time() + seconds


def shopper(i, token):
    conn = http.client.HTTPConnection(host)
    h = {"authorization": "Bearer " + token}
    n = 0
    while time.time() < deadline:
        n += 1
        t0 = time.time()
        call(conn, "POST", "/api/v1/cart/items", {"sku": SKU, "quantity": 1}, h)
        status, _ = call(conn, "POST", "/api/v1/orders", None, {**h, "idempotency-key": f"b-{time.time_ns()}-{i}-{n}"})
        with lock:
            results[status] = results.get(status, 0) + 1
            latencies.append(time.time() - t0)


threads = [threading.Thread(target=shopper, args=(i, t)) for i, t in enumerate(tokens)]
started = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - started
latencies.sort()
orders = results.get(201, 0)
print(json.dumps({"orders": orders, "rate": orders / elapsed, "statuses": results, "before": before, "after": stock(c),
                  "p50": latencies[len(latencies) // 2] * 1000, "p99": latencies[int(len(latencies) * 0.99)] * 1000}))
