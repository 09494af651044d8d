"""Media files: local uploads and their renditions (`uploads`, `images`, `blurhash`),
attachments of remote posts cached here (`remote_media`), and the cleanup of both
(`media_cleanup`)."""
