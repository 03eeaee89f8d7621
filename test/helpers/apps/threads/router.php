<?php
// The PHP built-in server's router for the correlation tests (docs/devdocs/correlation.md):
// each request runs a MariaDB query (mysqli) and calls the next hop over HTTP, then answers.
// env: NEXT (URL prefix), DB_PORT, DB_USER, DB_PASS
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$db = new mysqli('127.0.0.1', getenv('DB_USER'), getenv('DB_PASS'), '', (int) getenv('DB_PORT'));
$row = $db->query("SELECT '" . $db->real_escape_string($path) . "' AS p")->fetch_row();
$db->close();
$body = file_get_contents(getenv('NEXT') . $path);
header('Content-Type: text/plain');
echo $row[0], ' ', $body;
