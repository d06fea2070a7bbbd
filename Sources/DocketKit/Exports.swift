// DocketKit re-exports the shared value types (Digest, Logger, HTTPClient) so users import one module.
@_exported import DocketCore
