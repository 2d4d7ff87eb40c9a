--
-- PostgreSQL database dump
--

\restrict PHjuhaLQeuDv7B2nVrzLG2EUfZB8HBvF8C0m5zXE9JI3hRsHgIy1kThCgi0Xvue

-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.accounts (
    id bigint NOT NULL,
    extension text NOT NULL,
    display_name text,
    auth_user text,
    password text,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);


--
-- Name: accounts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.accounts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: accounts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.accounts_id_seq OWNED BY public.accounts.id;


--
-- Name: audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit (
    id bigint NOT NULL,
    at timestamp with time zone,
    mac text,
    event text,
    actor text,
    detail text
);


--
-- Name: audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_id_seq OWNED BY public.audit.id;


--
-- Name: device_accounts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.device_accounts (
    device_mac text NOT NULL,
    "position" bigint NOT NULL,
    account_id bigint NOT NULL
);


--
-- Name: devices; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.devices (
    mac text NOT NULL,
    vendor text,
    model text,
    label text,
    state text,
    key_profile text,
    keys text,
    overrides text,
    menu_password text,
    web_password text,
    last_seen timestamp with time zone,
    remote_ip text,
    user_agent text,
    firmware text,
    last_file text,
    disclosure_state text DEFAULT 'none'::text NOT NULL,
    opened_at timestamp with time zone,
    expires_at timestamp with time zone,
    disclosed_at timestamp with time zone,
    disclosed_ip text,
    disclosed_ua text,
    reserved_by text,
    reserved_until timestamp with time zone,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);


--
-- Name: key_profiles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.key_profiles (
    name text NOT NULL,
    description text,
    keys text,
    created_at timestamp with time zone,
    updated_at timestamp with time zone
);


--
-- Name: settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.settings (
    id bigint NOT NULL,
    data text
);


--
-- Name: settings_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.settings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: settings_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.settings_id_seq OWNED BY public.settings.id;


--
-- Name: accounts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts ALTER COLUMN id SET DEFAULT nextval('public.accounts_id_seq'::regclass);


--
-- Name: audit id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit ALTER COLUMN id SET DEFAULT nextval('public.audit_id_seq'::regclass);


--
-- Name: settings id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settings ALTER COLUMN id SET DEFAULT nextval('public.settings_id_seq'::regclass);


--
-- Data for Name: accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.accounts (id, extension, display_name, auth_user, password, created_at, updated_at) VALUES (1, '201', 'Alice Example', '201', 'fx-sip-201-secret', '2026-11-30 12:06:30.933246+00', '2026-11-30 12:06:30.933246+00');
INSERT INTO public.accounts (id, extension, display_name, auth_user, password, created_at, updated_at) VALUES (3, '203', 'Zoë "Z" Müller', '203', 'fx-sip-203-secret', '2026-11-30 12:06:31.028134+00', '2026-11-30 12:06:31.028134+00');
INSERT INTO public.accounts (id, extension, display_name, auth_user, password, created_at, updated_at) VALUES (4, '204', 'Dave Late', '204', 'fx-sip-204-secret', '2026-11-30 12:06:31.069188+00', '2026-11-30 12:06:31.069188+00');
INSERT INTO public.accounts (id, extension, display_name, auth_user, password, created_at, updated_at) VALUES (5, '205', 'Unused', '205', 'fx-sip-205-secret', '2026-11-30 12:06:31.108804+00', '2026-11-30 12:06:31.108804+00');
INSERT INTO public.accounts (id, extension, display_name, auth_user, password, created_at, updated_at) VALUES (2, '202', 'Bob Builder (Sales)', 'bob-auth', 'fx-sip-202-secret', '2026-11-30 12:06:30.968857+00', '2026-11-30 12:06:31.163644+00');


--
-- Data for Name: audit; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (1, '2026-11-30 12:06:30.882068+00', '', 'settings.updated', 'api@127.0.0.1', 'changed: sip_server, sip_port, sip_transport, outbound_proxy, ntp_server, timezone, language, web_language, tone_scheme, disclosure_window_seconds');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (2, '2026-11-30 12:06:30.935669+00', '', 'account.created', 'api@127.0.0.1', 'extension 201');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (3, '2026-11-30 12:06:30.972933+00', '', 'account.created', 'api@127.0.0.1', 'extension 202');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (4, '2026-11-30 12:06:31.028889+00', '', 'account.created', 'api@127.0.0.1', 'extension 203');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (5, '2026-11-30 12:06:31.069919+00', '', 'account.created', 'api@127.0.0.1', 'extension 204');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (6, '2026-11-30 12:06:31.111393+00', '', 'account.created', 'api@127.0.0.1', 'extension 205');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (7, '2026-11-30 12:06:31.164408+00', '', 'account.updated', 'api@127.0.0.1', 'extension 202: changed: display_name');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (8, '2026-11-30 12:06:31.181491+00', '', 'key_profile.created', 'api@127.0.0.1', 'desk: 3 keys');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (9, '2026-11-30 12:06:31.198992+00', '', 'key_profile.created', 'api@127.0.0.1', 'spare: 1 keys');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (10, '2026-11-30 12:06:31.234269+00', '001565aabb03', 'device.created', 'api@127.0.0.1', 'yealink T46S, accounts 204');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (11, '2026-11-30 12:06:31.234814+00', '001565aabb03', 'disclosure.opened', 'api@127.0.0.1', 'window 1s, until 2026-11-30T12:06:32Z');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (12, '2026-11-30 12:06:35.805795+00', '001565aabb03', 'disclosure.expired', '', 'window ended at 2026-11-30T12:06:32Z without a completed fetch');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (13, '2026-11-30 12:06:35.995337+00', '', 'settings.updated', 'api@127.0.0.1', 'changed: disclosure_window_seconds');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (14, '2026-11-30 12:06:36.047559+00', '805ec0aabb01', 'device.created', 'api@127.0.0.1', 'yealink T54W, accounts 201,202');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (15, '2026-11-30 12:06:36.04886+00', '805ec0aabb01', 'disclosure.opened', 'api@127.0.0.1', 'window 24h0m0s, until 2026-12-01T12:06:36Z');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (16, '2026-11-30 12:06:36.120534+00', '805ec0aabb01', 'disclosure.consumed', '', 'secrets delivered to 127.0.0.1 (Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01)');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (17, '2026-11-30 12:06:36.226878+00', '000413aabb02', 'device.created', 'api@127.0.0.1', 'snom D785, accounts 203,201');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (18, '2026-11-30 12:06:36.227876+00', '000413aabb02', 'disclosure.opened', 'api@127.0.0.1', 'window 24h0m0s, until 2026-12-01T12:06:36Z');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (19, '2026-11-30 12:06:36.258067+00', '000413aabb02', 'device.updated', 'api@127.0.0.1', 'changed: keys');
INSERT INTO public.audit (id, at, mac, event, actor, detail) VALUES (20, '2026-11-30 12:06:36.279077+00', '000413aabb04', 'device.created', 'api@127.0.0.1', 'snom D717, accounts ');


--
-- Data for Name: device_accounts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.device_accounts (device_mac, "position", account_id) VALUES ('001565aabb03', 1, 4);
INSERT INTO public.device_accounts (device_mac, "position", account_id) VALUES ('805ec0aabb01', 1, 1);
INSERT INTO public.device_accounts (device_mac, "position", account_id) VALUES ('805ec0aabb01', 2, 2);
INSERT INTO public.device_accounts (device_mac, "position", account_id) VALUES ('000413aabb02', 1, 3);
INSERT INTO public.device_accounts (device_mac, "position", account_id) VALUES ('000413aabb02', 2, 1);


--
-- Data for Name: devices; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.devices (mac, vendor, model, label, state, key_profile, keys, overrides, menu_password, web_password, last_seen, remote_ip, user_agent, firmware, last_file, disclosure_state, opened_at, expires_at, disclosed_at, disclosed_ip, disclosed_ua, reserved_by, reserved_until, created_at, updated_at) VALUES ('001565aabb03', 'yealink', 'T46S', '', 'assigned', '', '[]', '{}', '1357', 'fx-web-0003', '2026-11-30 12:06:35.927269+00', '127.0.0.1', 'Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:03', '66.86.0.15', '001565aabb03.cfg', 'expired', '2026-11-30 12:06:31.234814+00', '2026-11-30 12:06:32.234814+00', NULL, '', '', '', NULL, '2026-11-30 12:06:31.23161+00', '2026-11-30 12:06:31.234965+00');
INSERT INTO public.devices (mac, vendor, model, label, state, key_profile, keys, overrides, menu_password, web_password, last_seen, remote_ip, user_agent, firmware, last_file, disclosure_state, opened_at, expires_at, disclosed_at, disclosed_ip, disclosed_ua, reserved_by, reserved_until, created_at, updated_at) VALUES ('805ec0aabb01', 'yealink', 'T54W', 'Reception desk', 'assigned', 'desk', '[{"position":4,"type":"blf","value":"203","label":"Zoë"},{"position":1,"module":1,"type":"speed_dial","value":"5550001","label":"Lobby"}]', '{"ntp_server":"ntp2.fixture.example","timezone":"Europe/Paris","language":"fr","web_language":"en","tone_scheme":"FR"}', '2468', 'fx-web-0001', '2026-11-30 12:06:36.09353+00', '127.0.0.1', 'Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01', '96.86.0.100', '805ec0aabb01.cfg', 'consumed', '2026-11-30 12:06:36.04886+00', '2026-12-01 12:06:36.04886+00', '2026-11-30 12:06:36.120534+00', '127.0.0.1', 'Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01', '', NULL, '2026-11-30 12:06:36.045121+00', '2026-11-30 12:06:36.049138+00');
INSERT INTO public.devices (mac, vendor, model, label, state, key_profile, keys, overrides, menu_password, web_password, last_seen, remote_ip, user_agent, firmware, last_file, disclosure_state, opened_at, expires_at, disclosed_at, disclosed_ip, disclosed_ua, reserved_by, reserved_until, created_at, updated_at) VALUES ('000413aabb02', 'snom', 'D785', 'Sales', 'assigned', '', '[{"position":1,"type":"line","account":"203"},{"position":2,"type":"line","account":"201"},{"position":3,"type":"park","value":"700","label":"Park"}]', '{}', '86420', 'fx-web-0002', NULL, '', '', '', '', 'open', '2026-11-30 12:06:36.227876+00', '2026-12-01 12:06:36.227876+00', NULL, '', '', '', NULL, '2026-11-30 12:06:36.224364+00', '2026-11-30 12:06:36.255417+00');
INSERT INTO public.devices (mac, vendor, model, label, state, key_profile, keys, overrides, menu_password, web_password, last_seen, remote_ip, user_agent, firmware, last_file, disclosure_state, opened_at, expires_at, disclosed_at, disclosed_ip, disclosed_ua, reserved_by, reserved_until, created_at, updated_at) VALUES ('000413aabb04', 'snom', 'D717', 'Spare', 'assigned', 'spare', '[]', '{"language":"it"}', '9999', 'fx-web-0004', NULL, '', '', '', '', 'none', NULL, NULL, NULL, '', '', '', NULL, '2026-11-30 12:06:36.278374+00', '2026-11-30 12:06:36.278374+00');
INSERT INTO public.devices (mac, vendor, model, label, state, key_profile, keys, overrides, menu_password, web_password, last_seen, remote_ip, user_agent, firmware, last_file, disclosure_state, opened_at, expires_at, disclosed_at, disclosed_ip, disclosed_ua, reserved_by, reserved_until, created_at, updated_at) VALUES ('805ec0aabb05', 'yealink', 'T46U', '', 'unassigned', '', '[]', '{}', '', '', '2026-11-30 12:06:36.334601+00', '127.0.0.1', 'Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:05', '108.86.0.20', '805ec0aabb05.cfg', 'none', NULL, NULL, NULL, '', '', '', NULL, '2026-11-30 12:06:36.335439+00', '2026-11-30 12:06:36.335439+00');


--
-- Data for Name: key_profiles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.key_profiles (name, description, keys, created_at, updated_at) VALUES ('desk', 'Front desk layout', '[{"position":1,"type":"line","line":1},{"position":2,"type":"blf","value":"202","label":"Bob \"B\" \u003cü\u003e","pickup_code":"*8"},{"position":3,"type":"speed_dial","value":"5551234","label":"Support"}]', '2026-11-30 12:06:31.180882+00', '2026-11-30 12:06:31.180882+00');
INSERT INTO public.key_profiles (name, description, keys, created_at, updated_at) VALUES ('spare', '', '[{"position":1,"type":"dnd"}]', '2026-11-30 12:06:31.198707+00', '2026-11-30 12:06:31.198707+00');


--
-- Data for Name: settings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.settings (id, data) VALUES (1, '{"sip_server":"pbx.fixture.example","sip_port":5061,"sip_transport":"tls","outbound_proxy":"proxy.fixture.example:5061","ntp_server":"ntp.fixture.example","timezone":"Europe/Berlin","language":"de","web_language":"fr","tone_scheme":"DE","disclosure_window_seconds":86400}');


--
-- Name: accounts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.accounts_id_seq', 5, true);


--
-- Name: audit_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_id_seq', 20, true);


--
-- Name: settings_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.settings_id_seq', 1, false);


--
-- Name: accounts accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);


--
-- Name: audit audit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (id);


--
-- Name: device_accounts device_accounts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_accounts
    ADD CONSTRAINT device_accounts_pkey PRIMARY KEY (device_mac, "position");


--
-- Name: devices devices_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.devices
    ADD CONSTRAINT devices_pkey PRIMARY KEY (mac);


--
-- Name: key_profiles key_profiles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.key_profiles
    ADD CONSTRAINT key_profiles_pkey PRIMARY KEY (name);


--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (id);


--
-- Name: idx_accounts_extension; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX idx_accounts_extension ON public.accounts USING btree (extension);


--
-- Name: idx_audit_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_audit_at ON public.audit USING btree (at);


--
-- Name: idx_audit_mac; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_audit_mac ON public.audit USING btree (mac);


--
-- Name: idx_device_accounts_account_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_device_accounts_account_id ON public.device_accounts USING btree (account_id);


--
-- Name: idx_devices_disclosure_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_devices_disclosure_state ON public.devices USING btree (disclosure_state);


--
-- Name: idx_devices_key_profile; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_devices_key_profile ON public.devices USING btree (key_profile);


--
-- Name: idx_devices_model; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_devices_model ON public.devices USING btree (model);


--
-- Name: idx_devices_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_devices_state ON public.devices USING btree (state);


--
-- Name: idx_devices_vendor; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_devices_vendor ON public.devices USING btree (vendor);


--
-- Name: device_accounts fk_device_accounts_account; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_accounts
    ADD CONSTRAINT fk_device_accounts_account FOREIGN KEY (account_id) REFERENCES public.accounts(id) ON DELETE RESTRICT;


--
-- Name: device_accounts fk_device_accounts_device; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.device_accounts
    ADD CONSTRAINT fk_device_accounts_device FOREIGN KEY (device_mac) REFERENCES public.devices(mac) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--

\unrestrict PHjuhaLQeuDv7B2nVrzLG2EUfZB8HBvF8C0m5zXE9JI3hRsHgIy1kThCgi0Xvue

