"""Gateway settings (`VIDMESH_GATEWAY_*`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from vidmesh.common.config import ServerSettings
from vidmesh.common.ports import DEFAULT_PORTS


class GatewaySettings(ServerSettings):
    model_config = SettingsConfigDict(env_prefix="VIDMESH_GATEWAY_", extra="ignore")

    port: int = Field(default=DEFAULT_PORTS.gateway, ge=0, le=65535)
    metrics_port: int = Field(default=DEFAULT_PORTS.gateway_metrics, ge=-1, le=65535)
    admin_emails: str = Field(
        default="", description="Comma-separated emails that register with the admin role."
    )
    database_wait_seconds: float = Field(
        default=90.0,
        gt=0,
        description="How long start-up waits for the database (e.g. in crash recovery) before "
        "giving up; gateway does not serve meanwhile.",
    )
    refresh_ttl_days: int = Field(default=30, ge=1, le=365)
    login_max_failures_per_account: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    upload_lease_seconds: float = Field(
        default=900.0,
        gt=0,
        description="How long an UPLOADING video lives without ingest renewing its lease.",
    )
    lease_sweep_seconds: float = Field(default=30.0, gt=0)
    quota_storage_bytes: int = Field(
        default=50 * 1024**3,
        ge=-1,
        description="Default bytes of originals a user may keep stored (-1: unlimited).",
    )
    quota_daily_bytes: int = Field(
        default=20 * 1024**3,
        ge=-1,
        description="Default bytes a user may upload in any 24 hours (-1: unlimited).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Allow webhook endpoints on loopback, private and link-local addresses "
        "(on-premise receivers); off, such endpoints are refused (SSRF).",
    )
    webhook_allowed_hosts: str = Field(
        default="",
        description="Comma-separated hosts webhooks may go to (`.example.com` for any name "
        "under it); empty: any public host.",
    )
    webhook_retry_seconds: str = Field(
        default="5,300,1800,7200,18000,36000,36000",
        description="Delays between a webhook delivery's attempts, comma-separated; the last "
        "repeats until 24 hours have passed.",
    )
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated peer addresses whose x-forwarded-for is believed.",
    )

    def admin_email_set(self) -> frozenset[str]:
        return frozenset(e.strip().lower() for e in self.admin_emails.split(",") if e.strip())

    def trusted_proxy_set(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.trusted_proxies.split(",") if p.strip())

    def webhook_schedule(self) -> tuple[float, ...]:
        return tuple(float(step) for step in self.webhook_retry_seconds.split(",") if step.strip())

    def webhook_host_list(self) -> tuple[str, ...]:
        return tuple(h.strip().lower() for h in self.webhook_allowed_hosts.split(",") if h.strip())
