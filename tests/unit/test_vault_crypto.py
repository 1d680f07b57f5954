"""The vault's cryptography and the Secret type, without a database."""

from __future__ import annotations

import logging
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewarden.adapters.vault import crypto
from tradewarden.adapters.vault.crypto import DecryptionError, KdfParams
from tradewarden.adapters.vault.redaction import RedactingFilter, redact_text, structlog_redactor
from tradewarden.adapters.vault.secret import MASK, Secret

KEY = crypto.new_data_key()


@given(st.text(min_size=0, max_size=500), st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=16))
@settings(max_examples=200, deadline=None)
def test_seal_then_open_gives_back_the_plaintext(text: str, conn_id: str, field: str) -> None:
    aad = crypto.field_aad(conn_id, field)
    nonce, ciphertext = crypto.seal(KEY, text.encode(), aad)
    assert len(nonce) == 12
    # Short plaintexts can occur by chance inside random ciphertext; a real secret (8+ bytes) cannot.
    assert len(text.encode()) < 8 or text.encode() not in ciphertext
    assert crypto.open_sealed(KEY, nonce, ciphertext, aad).decode() == text


def test_value_moved_to_another_connection_or_field_fails() -> None:
    nonce, ciphertext = crypto.seal(KEY, b"the-secret", crypto.field_aad("conn-a", "secret"))
    with pytest.raises(DecryptionError):
        crypto.open_sealed(KEY, nonce, ciphertext, crypto.field_aad("conn-b", "secret"))
    with pytest.raises(DecryptionError):
        crypto.open_sealed(KEY, nonce, ciphertext, crypto.field_aad("conn-a", "password"))


def test_tampered_ciphertext_or_wrong_key_fails() -> None:
    aad = crypto.field_aad("c", "secret")
    nonce, ciphertext = crypto.seal(KEY, b"the-secret", aad)
    tampered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    with pytest.raises(DecryptionError):
        crypto.open_sealed(KEY, nonce, tampered, aad)
    with pytest.raises(DecryptionError):
        crypto.open_sealed(crypto.new_data_key(), nonce, ciphertext, aad)


def test_nonces_are_fresh_for_every_seal() -> None:
    nonces = {crypto.seal(KEY, b"x", b"a")[0] for _ in range(2000)}
    assert len(nonces) == 2000


def test_data_key_wrap_opens_only_with_the_same_passphrase() -> None:
    params = KdfParams(time_cost=2, memory_kib=19 * 1024)
    salt = crypto.new_salt()
    data_key = crypto.new_data_key()
    wrapped = crypto.wrap_data_key(crypto.derive_kek("right passphrase", salt, params), data_key)
    assert crypto.unwrap_data_key(crypto.derive_kek("right passphrase", salt, params), wrapped) == data_key
    with pytest.raises(DecryptionError):
        crypto.unwrap_data_key(crypto.derive_kek("wrong passphrase", salt, params), wrapped)


@pytest.mark.parametrize(
    ("time_cost", "memory_kib", "parallelism"), [(1, 65536, 1), (3, 1024, 1), (3, 65536, 0)]
)
def test_kdf_parameters_below_owasp_minimum_are_refused(
    time_cost: int, memory_kib: int, parallelism: int
) -> None:
    with pytest.raises(ValueError, match="below the minimum"):
        crypto.derive_kek("p", crypto.new_salt(), KdfParams(time_cost, memory_kib, parallelism))


def test_secret_is_masked_everywhere_it_could_be_printed() -> None:
    secret = Secret("s3cr3t-value-abcdef")
    percent = "%s" % (secret,)  # noqa: UP031 - the old formatting path must be masked too
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", percent, str([secret])):
        assert "s3cr3t" not in shown
        assert MASK in shown
    assert secret.reveal() == "s3cr3t-value-abcdef"
    assert secret == Secret("s3cr3t-value-abcdef")
    assert secret != Secret("other-value-123")
    with pytest.raises(TypeError, match="pickled"):
        pickle.dumps(secret)


def test_logging_filter_removes_opened_secrets_from_messages_args_and_tracebacks() -> None:
    value = Secret("log-leak-candidate-7781").reveal()
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "key is %s and %s", (value, 3), None)
    try:
        raise RuntimeError(f"failed with {value}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert value not in formatted
    assert MASK in formatted
    assert "failed with" in formatted


def test_structlog_processor_redacts_nested_values() -> None:
    value = Secret("struct-leak-candidate-5531").reveal()
    event = structlog_redactor(None, "info", {"event": f"x {value}", "nested": {"k": [value]}})
    assert value not in repr(event)
    assert redact_text(f"a{value}b") == f"a{MASK}b"
