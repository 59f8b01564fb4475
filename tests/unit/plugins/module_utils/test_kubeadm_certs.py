"""plugins/module_utils/kubeadm_certs.py and its filters: `kubeadm certs check-expiration` parsed."""
from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.msa.platform.plugins.filter.kubeadm_certs import FilterModule
from ansible_collections.msa.platform.plugins.module_utils import kubeadm_certs

NOW = datetime.datetime(2026, 8, 24, 9, 3, tzinfo=datetime.UTC)
# kubeadm 1.3x text output (trailing spaces as kubeadm's tabwriter leaves them)
REAL = """[check-expiration] Reading configuration from the "kubeadm-config" ConfigMap in namespace "kube-system"...
[check-expiration] Use 'kubeadm init phase upload-config --config your-config-file' to re-upload it.

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Aug 19, 2027 09:03 UTC   360d            ca                      no
apiserver                  Sep 10, 2026 09:03 UTC   16d             ca                      no
apiserver-etcd-client      Aug 19, 2026 09:03 UTC   <invalid>       etcd-ca                 no
front-proxy-client         Aug 19, 2027 09:03 UTC   360d            front-proxy-ca          yes
!MISSING! scheduler.conf

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Aug 17, 2035 09:03 UTC   9y              no
etcd-ca                 Aug 17, 2035 09:03 UTC   9y              no
""".replace("no\n", "no      \n")


def test_real_output_parsed_into_rows():
    rows = kubeadm_certs.parse_check_expiration(REAL, "cp-1", NOW)
    by = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == ["admin.conf", "apiserver", "apiserver-etcd-client", "front-proxy-client",
                                         "scheduler.conf", "ca", "etcd-ca"]
    assert by["admin.conf"] == {"node": "cp-1", "name": "admin.conf", "kind": "certificate", "expires": "2027-08-19T09:03:00Z",
                                "days_left": 360, "authority": "ca", "externally_managed": False, "missing": False}
    assert by["apiserver"]["days_left"] == 17
    assert by["apiserver-etcd-client"]["days_left"] == -5
    assert by["front-proxy-client"]["externally_managed"] is True
    assert by["scheduler.conf"]["missing"] is True and by["scheduler.conf"]["days_left"] is None
    assert by["ca"] == {"node": "cp-1", "name": "ca", "kind": "authority", "expires": "2035-08-17T09:03:00Z",
                        "days_left": 3280, "authority": None, "externally_managed": False, "missing": False}


def test_warning_names_expiring_expired_and_missing_only():
    rows = kubeadm_certs.parse_check_expiration(REAL, "cp-1", NOW)
    text = kubeadm_certs.warning(rows)
    assert "cp-1: apiserver expires in 17 days (2026-09-10T09:03:00Z)" in text
    assert "cp-1: apiserver-etcd-client EXPIRED on 2026-08-19T09:03:00Z" in text
    assert "cp-1: scheduler.conf is MISSING" in text
    assert "admin.conf" not in text and "etcd-ca" not in text and "renew-certs.yml" in text
    assert kubeadm_certs.warning(rows, days=10).count("\n") == 2
    assert kubeadm_certs.warning([r for r in rows if r["name"] == "admin.conf"]) == ""


@pytest.mark.parametrize("bad", ["", "error: the server could not be reached\n", "CERTIFICATE EXPIRES\nfoo bar\n"])
def test_unparseable_output_is_an_error_naming_the_node(bad):
    with pytest.raises(kubeadm_certs.ParseError, match="cp-2"):
        kubeadm_certs.parse_check_expiration(bad, "cp-2", NOW)


def test_filters_flatten_nodes_in_order_and_reject_wrong_types():
    f = FilterModule().filters()
    rows = f["kubeadm_cert_expiry"]({"cp-2": REAL, "cp-1": REAL})
    assert [r["node"] for r in rows][:1] == ["cp-1"] and len(rows) == 14
    assert "cp-2: scheduler.conf is MISSING" in f["kubeadm_cert_warning"](rows)
    for bad in (None, ["x"], {"cp-1": None}, {"cp-1": "garbage"}):
        with pytest.raises(AnsibleFilterError):
            f["kubeadm_cert_expiry"](bad)
    with pytest.raises(AnsibleFilterError):
        f["kubeadm_cert_warning"](rows, "30")
