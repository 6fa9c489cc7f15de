// A file sent straight to S3 with a presigned POST ({url, fields, key}) that the API handed out:
// the fields first, then Content-Type, then the file, as S3 wants them. The vehicle documents
// (views/deliveries.js) and the payment QR image (views/newround.js) go this way.

/**
 * POST `file` to the presigned `url` with its `fields`; resolves to presigned.key.
 * Throws an Error with .status: 0 when there was no answer (no signal), else S3's status.
 */
export async function presignedPost(presigned, file, filename = 'file') {
  const fd = new FormData();
  Object.entries((presigned && presigned.fields) || {}).forEach(([k, v]) => fd.append(k, v));
  fd.append('Content-Type', file.type || 'application/octet-stream');
  fd.append('file', file, file.name || filename);
  let res;
  try {
    res = await fetch(presigned.url, { method: 'POST', body: fd });
  } catch (e) {
    const err = new Error('network');
    err.status = 0;
    throw err;
  }
  if (!res.ok) {
    const err = new Error(`s3 ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return presigned.key;
}
