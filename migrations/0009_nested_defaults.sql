-- Workflow runs and customer datasets used to store their unset nested objects and lists as
-- null; the contract types them as objects and arrays, and the types now hold {} and [].
UPDATE workflow_runs SET body = json_set(body,
    '$.client_geoip_location', CASE WHEN json_type(body, '$.client_geoip_location') = 'null'
        THEN json('{}') ELSE json_extract(body, '$.client_geoip_location') END,
    '$.mfa_details', CASE WHEN json_type(body, '$.mfa_details') = 'null'
        THEN json('{}') ELSE json_extract(body, '$.mfa_details') END,
    '$.device_details', CASE WHEN json_type(body, '$.device_details') = 'null'
        THEN json('[]') ELSE json_extract(body, '$.device_details') END,
    '$.geoip_details', CASE WHEN json_type(body, '$.geoip_details') = 'null'
        THEN json('[]') ELSE json_extract(body, '$.geoip_details') END)
WHERE 'null' IN (json_type(body, '$.client_geoip_location'), json_type(body, '$.mfa_details'),
                 json_type(body, '$.device_details'), json_type(body, '$.geoip_details'));

UPDATE customer_datasets SET body = json_set(body, '$.properties', json('{}'))
WHERE json_type(body, '$.properties') = 'null';
