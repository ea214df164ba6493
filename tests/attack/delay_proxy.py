# delay_proxy.py TARGET_PORT DELAY: a TCP proxy on a loopback port chosen by the kernel (printed
# on stdout) to 127.0.0.1:TARGET_PORT that holds every chunk the server sends for DELAY seconds
# (a busy server whose verdict arrives late); what the client sends passes at once.
# tls_test.sh uses it to show that its probes wait for the server's verdict.
import socket, sys, threading, time
target_port, delay = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(16)
print(ls.getsockname()[1], flush=True)
def pump(a, b, d):
    try:
        while True:
            data = a.recv(65536)
            if d: time.sleep(d)
            if not data:
                b.shutdown(socket.SHUT_WR); return
            b.sendall(data)
    except OSError:
        try: b.close()
        except OSError: pass
while True:
    c, _ = ls.accept()
    s = socket.create_connection(("127.0.0.1", target_port))
    threading.Thread(target=pump, args=(c, s, 0), daemon=True).start()
    threading.Thread(target=pump, args=(s, c, delay), daemon=True).start()
