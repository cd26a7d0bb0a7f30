import { describe, expect, it } from 'vitest';
import { parseListObjectsV2 } from '../../../src/aws/index.js';

describe('parseListObjectsV2', () => {
  it('reads keys (entities decoded), sizes and the continuation token of a truncated page', () => {
    const xml = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><IsTruncated>true</IsTruncated>
<Contents><Key>p/a&amp;b&lt;c&#39;.binpb.gz</Key><LastModified>2026-11-21T07:00:00.000Z</LastModified><Size>42</Size></Contents>
<Contents><Key>p/two</Key><LastModified>2026-11-21T07:00:01.000Z</LastModified><Size>7</Size></Contents>
<NextContinuationToken>tok/en+=</NextContinuationToken></ListBucketResult>`;
    expect(parseListObjectsV2(xml)).toEqual({
      objects: [
        { key: "p/a&b<c'.binpb.gz", size: 42, lastModified: '2026-11-21T07:00:00.000Z' },
        { key: 'p/two', size: 7, lastModified: '2026-11-21T07:00:01.000Z' },
      ],
      nextContinuationToken: 'tok/en+=',
    });
  });

  it('has no token on the last page', () => {
    expect(
      parseListObjectsV2('<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>'),
    ).toEqual({
      objects: [],
    });
  });
});
