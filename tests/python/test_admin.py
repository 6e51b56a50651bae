# SPDX-License-Identifier: ISC
"""AdminClient against the real daemon's admin socket: calls, their
answers, the section 6 error codes with HTTP status and Detail, and a
change seen at once by a query Client."""
import json

import pytest

import kmsauthz

ACCT = "1192853035118888"
ALICE = "acs:ram::%s:user/alice" % ACCT


def code_of(fn, *args, **kw):
    with pytest.raises(kmsauthz.AdminError) as e:
        fn(*args, **kw)
    assert isinstance(e.value, kmsauthz.Error)
    assert e.value.request_id and len(e.value.request_id) == 36
    return e.value.code, e.value.http_status, e.value.detail


def test_admin_calls_and_errors(make_daemon):
    d = make_daemon()
    with kmsauthz.AdminClient(d.admin) as a, \
            kmsauthz.Client(d.query) as q:
        st = a.call("Status")
        assert st["Generation"] == 0 and st["ReadOnly"] is False
        a.call("CreateInstance", InstanceId="kst-1", ShareQuota=2)
        r = a.call("CreateKey", DKMSInstanceId="kst-1", KeyId="key-1")
        assert r["KeyMetadata"]["KeyId"] == "key-1"
        a.call("CreateKey", KeyId="key-out")
        a.call("CreateUser", UserName="alice")
        res = "acs:kms:cn-hangzhou:%s:key/key-1" % ACCT
        # The default key policy allows the account's users; no identity
        # policy yet: same-account, key policy allows.
        before = q.check(ALICE, "kms:Decrypt", res)
        policy = json.dumps({"Version": "1", "Statement": [{
            "Effect": "Deny", "Principal": {"RAM": [ALICE]},
            "Action": "kms:Decrypt", "Resource": "*"}]})
        r = a.call("SetKeyPolicy", KeyId="key-1", PolicyName="default",
                   Policy=policy)
        assert r["Generation"] > st["Generation"]
        assert a.call("GetKeyPolicy", KeyId="key-1")["Policy"] == policy
        after = q.check(ALICE, "kms:Decrypt", res, explain=True)
        assert (after.decision, after.reason) == ("EXPLICIT_DENY",
                                                  "explicit-deny")
        assert after.generation == r["Generation"]
        assert before.generation < after.generation

        assert code_of(a.call, "GetKeyPolicy")[:2] == \
            ("MissingParameter", 400)
        c, s, detail = code_of(a.call, "SetKeyPolicy", KeyId="key-1",
                               Policy='{"Version":"1","Statement":[{}]}')
        assert (c, s) == ("InvalidParameter", 400) and detail
        assert code_of(a.call, "DescribeKey", KeyId="key-none")[:2] == \
            ("Forbidden.KeyNotFound", 404)
        assert code_of(a.call, "GetKeyPolicy", KeyId="key-out")[:2] == \
            ("Forbidden.KeyPolicyUnSupported", 400)
        assert code_of(a.call, "GetKeyPolicy", KeyId="key-1",
                       PolicyName="other")[:2] == \
            ("Forbidden.ResourceNotFound", 404)
        assert code_of(a.call, "NoSuchCall")[:2] == ("InvalidParameter", 400)
        assert code_of(a.call, "DescribeKey", KeyId="key-1",
                       Bogus="x")[:2] == ("InvalidParameter", 400)
        a.call("UpdateInstanceState", InstanceId="kst-1", State="Disabled")
        assert code_of(a.call, "EnableKey", KeyId="key-1")[:2] == \
            ("Forbidden.DKMSInstanceStateInvalid", 403)
        # The state is unchanged by the refused calls.
        assert a.call("GetKeyPolicy", KeyId="key-1")["Policy"] == policy
        with pytest.raises(kmsauthz.InvalidRequest):
            a.call("SetKeyPolicy", KeyId="key-1", Policy=object())
        a.ping()


def test_admin_on_the_query_socket_is_refused(make_daemon):
    d = make_daemon()
    with kmsauthz.AdminClient(d.query) as a:
        with pytest.raises(kmsauthz.ServerError) as e:
            a.call("Status")
    assert e.value.name == "UNSUPPORTED"
    with kmsauthz.Client(d.admin) as c:
        with pytest.raises(kmsauthz.ServerError):
            c.check(ALICE, "kms:Decrypt", "*")
