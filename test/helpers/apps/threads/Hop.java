// A Java com.sun.net.httpserver.HttpServer with a thread pool for the correlation tests
// (docs/devdocs/correlation.md): GET /x calls NEXT + /x with HttpURLConnection (keep-alive
// connections shared by the pool's threads) on the handling thread and answers with the body.
// usage: java Hop.java PORT NEXT
import com.sun.net.httpserver.HttpServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URI;
import java.util.concurrent.Executors;

public class Hop {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        String next = args[1];
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", ex -> {
            HttpURLConnection c = (HttpURLConnection) URI.create(next + ex.getRequestURI().getPath()).toURL().openConnection();
            byte[] body;
            try (InputStream in = c.getInputStream()) {
                body = in.readAllBytes();
            }
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("listening");
    }
}
