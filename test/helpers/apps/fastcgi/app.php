<?php
// The PHP-FPM script of test/integration/fastcgi-php.test.ts: each request runs one MariaDB
// query (mysqli over TCP) naming its own path, then answers; a path under /missing/ answers
// 404 through http_response_code (PHP-FPM sends it as the CGI `Status:` header).
// A path under /local/ queries MariaDB over its unix socket instead (not FastCGI: the kernel's
// gate never reports it).
// env (pool env[]): DB_PORT, DB_SOCKET, DB_USER, DB_PASS
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$db = str_contains($path, '/local/')
  ? new mysqli('localhost', getenv('DB_USER'), getenv('DB_PASS'), '', 0, getenv('DB_SOCKET'))
  : new mysqli('127.0.0.1', getenv('DB_USER'), getenv('DB_PASS'), '', (int) getenv('DB_PORT'));
$row = $db->query("SELECT '" . $db->real_escape_string($path) . "' AS p")->fetch_row();
$db->close();
if (str_contains($path, '/missing/')) http_response_code(404);
header('Content-Type: text/plain');
echo 'php-fpm ', $row[0], "\n";
