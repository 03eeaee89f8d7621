// The official Elasticsearch (@elastic/elasticsearch) or OpenSearch (@opensearch-project/opensearch)
// client against the test peer (test/helpers/search-peer.ts): argv[2] `elasticsearch` |
// `opensearch`, argv[3] the node URL. Create an index, index a document, bulk, get, search,
// delete, and a get in a missing index (index_not_found_exception). Prints one JSON line.
const [product, node] = process.argv.slice(2);
const out = {};
if (product === 'elasticsearch') {
  const { Client } = await import('@elastic/elasticsearch');
  const c = new Client({ node });
  await c.indices.create({ index: 'books' });
  await c.index({ index: 'books', id: '1', document: { title: 'Dune', year: 1965 } });
  const bulk = await c.bulk({ operations: [{ index: { _index: 'books', _id: '2' } }, { title: 'Emma' }, { index: { _index: 'books', _id: '3' } }, { title: 'Ulysses' }] });
  out.bulkErrors = bulk.errors;
  out.title = (await c.get({ index: 'books', id: '1' }))._source.title;
  out.hits = (await c.search({ index: 'books', query: { match: { title: 'dune' } } })).hits.total.value;
  out.deleted = (await c.delete({ index: 'books', id: '1' })).result;
  try {
    await c.get({ index: 'nope', id: '1' });
  } catch (e) {
    out.missing = e.body?.error?.type;
  }
  await c.close();
} else {
  const { Client } = await import('@opensearch-project/opensearch');
  const c = new Client({ node });
  await c.indices.create({ index: 'books' });
  await c.index({ index: 'books', id: '1', body: { title: 'Dune', year: 1965 } });
  const bulk = await c.bulk({ body: [{ index: { _index: 'books', _id: '2' } }, { title: 'Emma' }, { index: { _index: 'books', _id: '3' } }, { title: 'Ulysses' }] });
  out.bulkErrors = bulk.body.errors;
  out.title = (await c.get({ index: 'books', id: '1' })).body._source.title;
  out.hits = (await c.search({ index: 'books', body: { query: { match: { title: 'dune' } } } })).body.hits.total.value;
  out.deleted = (await c.delete({ index: 'books', id: '1' })).body.result;
  try {
    await c.get({ index: 'nope', id: '1' });
  } catch (e) {
    out.missing = e.meta?.body?.error?.type;
  }
  await c.close();
}
console.log(JSON.stringify(out));
