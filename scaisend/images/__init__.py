"""The images library (D20): ``/v3/images`` for tenants, the public ``/i/{image_id}`` proxy, the
storage behind one interface (a folder or an S3-compatible bucket) and CID embedding at compose."""
